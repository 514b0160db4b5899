// prerequisite.hpp - a test that needs something from the machine (root, an
// installed Postfix) skips without it on a developer's machine, but fails
// when scripts/test runs the suite (ETRN_TESTS_NO_SKIP=1): scripts/test
// installed every prerequisite, so a missing one is a broken install step,
// and a skip would hide it behind a green run.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace etrn::testing {

inline bool skips_are_failures() {
  const char* value = std::getenv("ETRN_TESTS_NO_SKIP");
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace etrn::testing

// Skips (or, under scripts/test, fails) the current test unless `condition`.
#define ETRN_REQUIRE_PREREQUISITE(condition, why)                              \
  do {                                                                         \
    if (!(condition)) {                                                        \
      if (::etrn::testing::skips_are_failures()) FAIL() << "missing: " << why; \
      GTEST_SKIP() << why;                                                     \
    }                                                                          \
  } while (false)
