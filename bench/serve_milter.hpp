// serve_milter.hpp - the main() of bench/'s baseline libmilter milters:
// check the socket argument, register, listen, make the socket reachable by
// Postfix's smtpd (user postfix) while the milter runs as root, and run
// until SIGTERM/SIGINT (libmilter's own handling).
#pragma once

#include <libmilter/mfapi.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace etrn::bench {

// argv[1] is unix:/path/to.sock; exits as sysexits(3) say on a bad start.
inline int serve_milter(smfiDesc description, int argc, char** argv) {
  const char* name = description.xxfi_name;
  if (argc != 2 || std::strncmp(argv[1], "unix:", 5) != 0) {
    std::fprintf(stderr, "usage: %s unix:/path/to.sock\n", name);
    return 64;
  }
  if (smfi_register(description) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
      smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "%s: cannot listen on %s\n", name, argv[1]);
    return 71;
  }
  const std::string path = argv[1] + 5;
  chmod(path.c_str(), 0666);
  return smfi_main() == MI_SUCCESS ? 0 : 70;
}

}  // namespace etrn::bench
