// postfix_queue_id.hpp - is this string a Postfix queue ID, and nothing else?
//
// Every queue ID is checked here before it becomes an argument of postsuper,
// postcat or any other command: `postsuper -d ALL` deletes the whole queue
// and `-` makes it read IDs from stdin, so only the two shapes Postfix
// itself generates are accepted (src/global/mail_queue.h):
//   short: upper-case hex, 5 digits of microseconds then the inode number
//          in hex, so 6 or more characters;
//   long (enable_long_queue_ids): at least 6 base-52 digits of seconds and
//          exactly 4 of microseconds, the separator 'z', then the inode
//          number in base 51 (the same alphabet without 'z').
// The base-52 alphabet is Postfix's safe_ultostr(): digits and consonants,
// 0-9 B-D F-H J-N P-T V-Z b-d f-h j-n p-t v-z.
#pragma once

#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace etrn {

inline constexpr std::size_t kMaxQueueIdLength = 64;

bool is_short_postfix_queue_id(std::string_view id);
bool is_long_postfix_queue_id(std::string_view id);
bool is_postfix_queue_id(std::string_view id);

// The ID itself, or an error that quotes it safely.
Result<std::string> validate_postfix_queue_id(std::string_view id);

}  // namespace etrn
