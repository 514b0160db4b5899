// noop_milter.cpp - the baseline milter for bench/run: libmilter with every
// callback etrn-milter registers, each doing nothing but continue.
//
// It negotiates exactly as etrn-milter does (milter/milter_glue.cpp
// on_negotiate: no modifications, no body and no unknown commands, no
// reply to connect, HELO, MAIL, RCPT, headers and end of headers where
// offered, the same macro lists), so the MTA sends it the same packets and
// any difference measured against etrn-milter is the work etrn-milter does,
// not a difference in protocol traffic. (etrn-milter also accepts a
// message at DATA once it knows no recipient is ETRN; this one never
// does, so on non-ETRN mail it sees more traffic than etrn-milter.)
//
//   etrn-bench-noop-milter unix:/path/to.sock
//
// Runs in the foreground until SIGTERM/SIGINT (serve_milter.hpp).
#include <libmilter/mfapi.h>

#include "serve_milter.hpp"

namespace {

// The same lists as etrn-milter asks for (milter_glue.cpp kMacroRequests).
struct MacroRequest {
  int stage;
  const char* macros;
};
constexpr MacroRequest kMacroRequests[] = {
    {SMFIM_CONNECT, "j _ {daemon_name} {client_addr} {client_name}"},
    {SMFIM_ENVFROM, "i {auth_type} {auth_authen} {mail_addr}"},
    {SMFIM_ENVRCPT, "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"},
    {SMFIM_EOH, "i"},
    {SMFIM_EOM, "i {msg_size}"},
};

// The steps etrn-milter negotiates (milter_glue.cpp kStepsNotWanted,
// kNoReplySteps).
constexpr unsigned long kStepsNotWanted = SMFIP_NOBODY | SMFIP_NOUNKNOWN;
constexpr unsigned long kNoReplySteps =
    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH;

// Per-connection state, as etrn-milter keeps it; a plain heap object.
struct Connection {
  unsigned long no_reply = 0;  // the negotiated SMFIP_NR_* steps
};

Connection* connection_of(SMFICTX* ctx) {
  auto* c = static_cast<Connection*>(smfi_getpriv(ctx));
  if (c) return c;
  c = new Connection;
  if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
    delete c;
    return nullptr;
  }
  return c;
}

// "continue", or no reply where that was negotiated for the step.
sfsistat proceed(SMFICTX* ctx, unsigned long step) {
  Connection* c = connection_of(ctx);
  return c && (c->no_reply & step) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long,
                      unsigned long, unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                      unsigned long* pf3) {
  *pf0 = 0;
  *pf1 = f1 & kStepsNotWanted;
  *pf2 = 0;
  *pf3 = 0;
  if (Connection* c = connection_of(ctx)) {
    c->no_reply = f1 & kNoReplySteps;
    *pf1 |= c->no_reply;
  }
  if (f0 & SMFIF_SETSYMLIST) {
    *pf0 |= SMFIF_SETSYMLIST;
    for (const auto& request : kMacroRequests)
      smfi_setsymlist(ctx, request.stage, const_cast<char*>(request.macros));
  }
  return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR*) {
  return proceed(ctx, SMFIP_NR_CONN);
}
sfsistat on_helo(SMFICTX* ctx, char*) {
  return proceed(ctx, SMFIP_NR_HELO);
}
sfsistat on_envfrom(SMFICTX* ctx, char**) {
  return proceed(ctx, SMFIP_NR_MAIL);
}
sfsistat on_envrcpt(SMFICTX* ctx, char**) {
  return proceed(ctx, SMFIP_NR_RCPT);
}
sfsistat on_header(SMFICTX* ctx, char*, char*) {
  return proceed(ctx, SMFIP_NR_HDR);
}
sfsistat on_eoh(SMFICTX* ctx) {
  return proceed(ctx, SMFIP_NR_EOH);
}
sfsistat on_eom(SMFICTX*) {
  return SMFIS_CONTINUE;
}
sfsistat on_abort(SMFICTX*) {
  return SMFIS_CONTINUE;
}
sfsistat on_close(SMFICTX* ctx) {
  delete static_cast<Connection*>(smfi_getpriv(ctx));
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

smfiDesc description() {
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("etrn-bench-noop-milter");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = 0;
  d.xxfi_connect = on_connect;
  d.xxfi_helo = on_helo;
  d.xxfi_envfrom = on_envfrom;
  d.xxfi_envrcpt = on_envrcpt;
  d.xxfi_header = on_header;
  d.xxfi_eoh = on_eoh;
  d.xxfi_eom = on_eom;
  d.xxfi_abort = on_abort;
  d.xxfi_close = on_close;
  d.xxfi_negotiate = on_negotiate;
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  return etrn::bench::serve_milter(description(), argc, argv);
}
