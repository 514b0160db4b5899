// postgres_array.cpp - see postgres_array.hpp.
#include "common/store/postgres_array.hpp"

namespace etrn {

// Quoted always (an unquoted element would be read as NULL when it says
// NULL, and trimmed of spaces); inside quotes only " and \ need escaping.
PostgresArray& PostgresArray::add(std::string_view text) {
  separate();
  body_ += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') body_ += '\\';
    body_ += c;
  }
  body_ += '"';
  return *this;
}

PostgresArray& PostgresArray::add(std::int64_t number) {
  separate();
  body_ += std::to_string(number);
  return *this;
}

PostgresArray& PostgresArray::add_null() {
  separate();
  body_ += "NULL";
  return *this;
}

}  // namespace etrn
