// temp_dir.hpp - a fresh temporary directory per test, left behind (with
// its path printed) when the test fails, removed otherwise.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <string>

namespace etrn::testing {

class TemporaryDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "etrn-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
    dir_ = pattern;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "test files left in " << dir_ << "\n";
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::filesystem::path dir_;
};

}  // namespace etrn::testing
