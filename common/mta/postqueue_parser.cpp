// postqueue_parser.cpp - `postqueue -j` lines, read with nlohmann::json's
// SAX interface straight into a QueuedMessage: no document is built (a
// 100k-message queue spent most of its parsing time building and freeing
// one per line), and a bad line is a value, not a crash. The rules are
// those of a document read: for a member given twice the last one counts,
// unknown members are skipped, the first problem found in the order below
// is the error.
#include "common/mta/postqueue_parser.hpp"

#include <nlohmann/json.hpp>

#include "common/mta/postfix_queue_id.hpp"

namespace etrn {

namespace {

using nlohmann::json;

std::string not_a(std::string_view member, std::string_view type) {
  return "member \"" + std::string(member) + "\" missing or not " + std::string(type);
}

// One postqueue line's members as they arrive. Containers that are not
// read are skipped whole (skip_ counts their depth).
class LineReader final : public nlohmann::json_sax<json> {
 public:
  Result<QueuedMessage> result() && {
    if (!is_object_) return make_error("not a JSON object");
    if (!queue_name_) return make_error(not_a("queue_name", "a string"));
    if (!queue_id_) return make_error(not_a("queue_id", "a string"));
    if (!arrival_time_) return make_error(not_a("arrival_time", "an integer"));
    if (!sender_) return make_error(not_a("sender", "a string"));
    auto valid_id = validate_postfix_queue_id(*queue_id_);
    if (!valid_id) return valid_id.error();
    if (!recipients_given_) return make_error(not_a("recipients", "an array"));
    if (!recipients_error_.empty()) return make_error(recipients_error_);
    QueuedMessage& m = message_;
    m.held = *queue_name_ == kPostfixHoldQueue;
    // Only deferred and hold mail is still: incoming and active mail may be
    // in delivery right now (an ETRN site collecting it), maildrop mail is
    // not queued yet, corrupt mail is nobody's to touch.
    m.busy = !m.held && *queue_name_ != kPostfixDeferredQueue;
    m.queue_name = std::move(*queue_name_);
    m.queue_id = std::move(*valid_id);
    m.arrival_time = *arrival_time_;
    m.sender = *sender_ == kPostqueueNullSender ? "" : std::move(*sender_);
    m.size = size_.value_or(0);
    return std::move(m);
  }

  bool null() override { return scalar(Value{}); }
  bool boolean(bool b) override { return scalar(Value::of_bool(b)); }
  bool number_integer(number_integer_t n) override { return scalar(Value::of_integer(n)); }
  bool number_unsigned(number_unsigned_t n) override {
    return scalar(Value::of_integer(static_cast<std::int64_t>(n)));
  }
  bool number_float(number_float_t, const string_t&) override { return scalar(Value{}); }
  bool string(string_t& s) override { return scalar(Value::of_text(s)); }
  bool binary(binary_t&) override { return scalar(Value{}); }

  bool key(string_t& k) override {
    if (skip_ == 0) key_ = std::move(k);
    return true;
  }

  bool start_object(std::size_t) override {
    if (skip_ > 0 || where_ == Where::done) return enter_skipped();
    switch (where_) {
      case Where::outside:
        is_object_ = true;
        where_ = Where::top;
        return true;
      case Where::recipients:
        recipient_ = {};
        where_ = Where::recipient;
        return true;
      default:
        scalar(Value{});  // an object where a member's value was wanted
        return enter_skipped();
    }
  }

  bool end_object() override {
    if (skip_ > 0) return leave_skipped();
    if (where_ == Where::recipient) {
      where_ = Where::recipients;
      if (!recipient_.address) {
        fail_recipients(not_a("address", "a string"));
      } else if (recipients_error_.empty()) {
        message_.recipients.push_back(QueuedRecipient{std::move(*recipient_.address)});
      }
    } else if (where_ == Where::top) {
      where_ = Where::done;
    }
    return true;
  }

  bool start_array(std::size_t) override {
    if (skip_ > 0 || where_ == Where::done) return enter_skipped();
    if (where_ == Where::top && key_ == "recipients") {
      message_.recipients.clear();
      recipients_error_.clear();
      recipients_given_ = true;
      where_ = Where::recipients;
      return true;
    }
    scalar(Value{});  // an array where a member's value was wanted
    return enter_skipped();
  }

  bool end_array() override {
    if (skip_ > 0) return leave_skipped();
    if (where_ == Where::recipients) where_ = Where::top;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Where { outside, top, recipients, recipient, done };
  // A scalar value; only the field its type says is set.
  struct Value {
    const string_t* text = nullptr;
    std::optional<std::int64_t> integer = std::nullopt;
    std::optional<bool> boolean = std::nullopt;

    static Value of_text(const string_t& s) { return {&s}; }
    static Value of_integer(std::int64_t n) { return {nullptr, n}; }
    static Value of_bool(bool b) { return {nullptr, std::nullopt, b}; }
  };
  struct Recipient {
    std::optional<std::string> address;
  };

  static void take_text(const Value& v, std::optional<std::string>& into) {
    into = v.text ? std::optional<std::string>(*v.text) : std::nullopt;
  }

  bool scalar(const Value& v) {
    if (skip_ > 0) return true;
    switch (where_) {
      case Where::outside:
        where_ = Where::done;  // a JSON value, but not an object
        return true;
      case Where::top:
        member(v);
        return true;
      case Where::recipients:
        fail_recipients("a recipient is not an object");
        return true;
      case Where::recipient:
        if (key_ == "address") take_text(v, recipient_.address);
        return true;
      case Where::done:
        return true;
    }
    return true;
  }

  void member(const Value& v) {
    if (key_ == "queue_name") {
      take_text(v, queue_name_);
    } else if (key_ == "queue_id") {
      take_text(v, queue_id_);
    } else if (key_ == "sender") {
      take_text(v, sender_);
    } else if (key_ == "arrival_time") {
      arrival_time_ = v.integer;
    } else if (key_ == "message_size") {
      size_ = v.integer;
    } else if (key_ == "forced_expire") {
      message_.forced_expire = v.boolean.value_or(false);
    } else if (key_ == "recipients") {
      message_.recipients.clear();
      recipients_given_ = true;
      recipients_error_ = not_a("recipients", "an array");
    }
  }

  void fail_recipients(std::string why) {
    if (recipients_error_.empty()) recipients_error_ = std::move(why);
  }

  bool enter_skipped() {
    ++skip_;
    return true;
  }
  bool leave_skipped() {
    --skip_;
    return true;
  }

  Where where_ = Where::outside;
  int skip_ = 0;
  std::string key_;
  bool is_object_ = false;
  std::optional<std::string> queue_name_, queue_id_, sender_;
  std::optional<std::int64_t> arrival_time_, size_;
  bool recipients_given_ = false;
  std::string recipients_error_;
  Recipient recipient_;
  QueuedMessage message_;
};

}  // namespace

Result<QueuedMessage> parse_postqueue_json_line(std::string_view line) {
  // nlohmann rejects invalid UTF-8 too: such a line is reported, not guessed at.
  LineReader reader;
  if (!json::sax_parse(line, &reader)) return make_error("not valid JSON");
  return std::move(reader).result();
}

std::optional<std::string_view> postqueue_line_queue_id(std::string_view line) {
  constexpr std::string_view kMember = "\"queue_id\": \"";
  const std::size_t at = line.find(kMember);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = line.substr(at + kMember.size());
  const std::size_t end = rest.find('"');
  if (end == std::string_view::npos || end == 0) return std::nullopt;
  const std::string_view id = rest.substr(0, end);
  if (!validate_postfix_queue_id(id)) return std::nullopt;
  return id;
}

}  // namespace etrn
