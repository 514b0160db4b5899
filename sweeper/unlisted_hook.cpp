// unlisted_hook.cpp - the missed-listing test hook (see unlisted_hook.hpp).
#include "sweeper/unlisted_hook.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/util/strings.hpp"

namespace etrn {

namespace {

std::vector<std::string> ids_in(const char* variable) {
  const char* value = std::getenv(variable);
  return value == nullptr ? std::vector<std::string>{} : split_list(value, ',');
}

bool named_in(const std::vector<std::string>& ids, std::string_view queue_id) {
  return std::find(ids.begin(), ids.end(), queue_id) != ids.end();
}

}  // namespace

bool unlisted_by_test_hook(std::string_view queue_id, QueueLook look) {
  // Read once: a 100k-message listing asks for every entry.
  static const std::vector<std::string> once = ids_in("ETRN_SWEEPER_TEST_UNLISTED");
  static const std::vector<std::string> twice = ids_in("ETRN_SWEEPER_TEST_UNLISTED_TWICE");
  if (once.empty() && twice.empty()) return false;
  return named_in(twice, queue_id) || (look == QueueLook::listing && named_in(once, queue_id));
}

}  // namespace etrn
