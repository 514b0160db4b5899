// cheapest_milter.cpp - the floor for any milter in bench/run's benchmark 1:
// libmilter with only an end-of-message callback. It negotiates every other
// step away (connect, HELO, MAIL, RCPT, DATA, headers, end of headers,
// body, unknown commands), sets no macro lists (Postfix sends only its
// default end-of-data macros) and answers end of message with "continue". Whatever a milter
// costs Postfix beyond this is the milter's own work and protocol traffic.
//
//   etrn-bench-cheapest-milter unix:/path/to.sock
//
// Runs in the foreground until SIGTERM/SIGINT (libmilter's own handling).
// The socket is made mode 0666 so Postfix's smtpd (user postfix) can
// connect to it while this runs as root.
#include <libmilter/mfapi.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr unsigned long kStepsNotWanted = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
                                          SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOHDRS | SMFIP_NOEOH |
                                          SMFIP_NOBODY | SMFIP_NOUNKNOWN;

sfsistat on_negotiate(SMFICTX*, unsigned long, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                      unsigned long* pf3) {
  *pf0 = 0;
  *pf1 = f1 & kStepsNotWanted;
  *pf2 = 0;
  *pf3 = 0;
  return SMFIS_CONTINUE;
}

sfsistat on_eom(SMFICTX*) {
  return SMFIS_CONTINUE;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::strncmp(argv[1], "unix:", 5) != 0) {
    std::fprintf(stderr, "usage: etrn-bench-cheapest-milter unix:/path/to.sock\n");
    return 64;
  }
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("etrn-bench-cheapest-milter");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = 0;
  d.xxfi_eom = on_eom;
  d.xxfi_negotiate = on_negotiate;
  if (smfi_register(d) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
      smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "etrn-bench-cheapest-milter: cannot listen on %s\n", argv[1]);
    return 71;
  }
  const std::string path = argv[1] + 5;
  chmod(path.c_str(), 0666);
  return smfi_main() == MI_SUCCESS ? 0 : 70;
}
