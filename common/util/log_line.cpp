// log_line.cpp - Postfix-style log line text (see log_line.hpp).
#include "common/util/log_line.hpp"

namespace etrn {

LogLine::LogLine(std::string_view queue_id) {
  append(queue_id);
  line_ += ": ";
}

void LogLine::next_item() {
  if (!first_item_) line_ += ", ";
  first_item_ = false;
}

// As Postfix's printable(): control bytes become '?'; UTF-8 stays.
void LogLine::append(std::string_view text) {
  const std::size_t start = line_.size();
  line_ += text;
  for (std::size_t i = start; i < line_.size(); ++i) {
    const auto byte = static_cast<unsigned char>(line_[i]);
    if (byte < 0x20 || byte == 0x7f) line_[i] = '?';
  }
}

LogLine& LogLine::phrase(std::string_view words) {
  next_item();
  append(words);
  return *this;
}

LogLine& LogLine::field(std::string_view key, std::string_view value) {
  next_item();
  line_ += key;
  line_ += '=';
  append(value);
  return *this;
}

LogLine& LogLine::address(std::string_view key, std::string_view address) {
  next_item();
  line_ += key;
  line_ += "=<";
  append(address);
  line_ += '>';
  return *this;
}

LogLine& LogLine::status(std::string_view word, std::string_view reason) {
  field("status", word);
  if (reason.empty()) return *this;
  line_ += " (";
  append(reason);
  line_ += ')';
  return *this;
}

}  // namespace etrn
