// milter_glue_test.cpp - the glue's pure helper. The callbacks themselves
// are tested black-box with miltertest (tests/milter/*.lua) against the
// real binary, since they only make sense inside libmilter.
#include "milter/milter_glue.hpp"

#include <gtest/gtest.h>

namespace etrn {
namespace {

TEST(UnixSocketPath, UnixAndLocalSpecsGiveThePath) {
  EXPECT_EQ(unix_socket_path("unix:/run/etrn-sweeper/milter.sock"),
            "/run/etrn-sweeper/milter.sock");
  EXPECT_EQ(unix_socket_path("local:/tmp/m.sock"), "/tmp/m.sock");
  EXPECT_EQ(unix_socket_path("/tmp/bare.sock"), "/tmp/bare.sock");
}

TEST(UnixSocketPath, InetSpecsHaveNoPath) {
  EXPECT_EQ(unix_socket_path("inet:8891@127.0.0.1"), "");
  EXPECT_EQ(unix_socket_path("inet6:8891@[::1]"), "");
  EXPECT_EQ(unix_socket_path(""), "");
}

}  // namespace
}  // namespace etrn
