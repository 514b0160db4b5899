// cheapest_milter.cpp - the floor for any milter in bench/run's benchmark 1:
// libmilter with only an end-of-message callback. It negotiates every other
// step away (connect, HELO, MAIL, RCPT, DATA, headers, end of headers,
// body, unknown commands), sets no macro lists (Postfix sends only its
// default end-of-data macros) and answers end of message with "continue". Whatever a milter
// costs Postfix beyond this is the milter's own work and protocol traffic.
//
//   etrn-bench-cheapest-milter unix:/path/to.sock
//
// Runs in the foreground until SIGTERM/SIGINT (serve_milter.hpp).
#include <libmilter/mfapi.h>

#include "serve_milter.hpp"

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
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("etrn-bench-cheapest-milter");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = 0;
  d.xxfi_eom = on_eom;
  d.xxfi_negotiate = on_negotiate;
  return etrn::bench::serve_milter(d, argc, argv);
}
