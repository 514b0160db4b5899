// postgres_text.hpp - any bytes as PostgreSQL text, and back.
//
// A PostgreSQL database in UTF8 refuses text that is not valid UTF-8, and
// mail brings such text every day: a raw Latin-1 Subject:, 8-bit bytes in
// an envelope address. Refused, one such message would fail its whole
// batch (the milter's records, the sweeper's adoption) again and again.
// So each byte that is not part of valid UTF-8 travels as a code point of
// Unicode's last private-use plane, U+10FE80 + (byte - 0x80), and a real
// U+10FE7F..U+10FEFF in the text is written with U+10FE7F before it. The
// mapping is one to one: reading gives back the bytes written, and two
// texts compare equal in SQL exactly when their bytes are equal. SQLite
// stores bytes as they are and needs none of this.
#pragma once

#include <string>
#include <string_view>

namespace etrn {

// `bytes` as valid UTF-8 (unchanged when it is valid UTF-8 already and
// holds no U+10FE7F..U+10FEFF).
std::string to_postgres_text(std::string_view bytes);

// The bytes to_postgres_text() was given.
std::string from_postgres_text(std::string_view text);

}  // namespace etrn
