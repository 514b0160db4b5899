// postgres_array.hpp - a one-dimensional PostgreSQL array literal
// ({"a",NULL,"b\"c"}) bound as one text parameter and cast in the SQL
// (?1::text[], ?2::bigint[]), so that a statement takes a whole batch's
// column at once: INSERT ... SELECT ... FROM unnest(?1::text[], ...)
// writes a thousand rows in one round trip. The values stay data: every
// element is quoted and escaped, none becomes SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace etrn {

class PostgresArray {
 public:
  PostgresArray& add(std::string_view text);
  PostgresArray& add(std::int64_t number);
  PostgresArray& add(const std::optional<std::string>& text) {
    return text ? add(std::string_view(*text)) : add_null();
  }
  PostgresArray& add(const std::optional<std::int64_t>& number) {
    return number ? add(*number) : add_null();
  }
  PostgresArray& add_null();
  // The literal, braces included ("{}" when empty).
  std::string literal() const { return body_ + '}'; }

 private:
  void separate() {
    if (body_.size() > 1) body_ += ',';
  }
  std::string body_ = "{";
};

}  // namespace etrn
