// milter_glue.cpp - libmilter callbacks (see milter_glue.hpp).
//
// libmilter calls back from many threads (a thread per connection, or a
// worker pool where one connection's callbacks hop between threads, one at
// a time) and has no user pointer for the filter as a whole, so the
// services live in one pointer set once before smfi_main() and only read
// afterwards; everything mutable belongs to a connection (its
// ConnectionState, via smfi_setpriv) or is synchronised (ConfigHolder,
// RecordWriter). Nothing is kept per thread.
#include "milter/milter_glue.hpp"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/util/strings.hpp"
#include "milter/message_collector.hpp"

namespace etrn {

namespace {

std::atomic<MilterServices*> services_{nullptr};
// Messages between MAIL and end of message or abort, on all connections.
// SIGTERM waits for them before smfi_stop(): once stopped, libmilter (its
// worker pool, as Debian builds it) serves no further command on an open
// connection, so a message in flight would be lost.
std::atomic<int> messages_in_progress_{0};

// Everything one milter connection owns.
struct ConnectionState {
  explicit ConnectionState(std::shared_ptr<const ConfigSnapshot> snapshot)
      : config(std::move(snapshot)), collector(config->matcher) {}
  ~ConnectionState() { end_message(); }
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;
  std::shared_ptr<const ConfigSnapshot> config;  // the rules this connection started with
  MessageCollector collector;
  ClientInfo client;
  bool no_header_reply = false;  // negotiated SMFIP_NR_HDR
  bool no_body_reply = false;    // negotiated SMFIP_NR_BODY
  bool in_message = false;       // counted in messages_in_progress_

  void begin_message() {
    if (!in_message) ++messages_in_progress_;
    in_message = true;
  }
  // Forgets the message (end of message, abort, close).
  void end_message() {
    collector.reset();
    if (in_message) --messages_in_progress_;
    in_message = false;
  }
};

// The macros we ask the MTA for (when it lets us choose), by stage.
// Postfix replaces its own list for a stage with the one we send, so each
// list repeats the defaults we rely on.
struct MacroRequest {
  int stage;
  const char* macros;
};
constexpr MacroRequest kMacroRequests[] = {
    {SMFIM_CONNECT, "j _ {daemon_name} {client_addr} {client_name}"},
    {SMFIM_ENVFROM, "i {auth_type} {auth_authen} {mail_addr}"},
    {SMFIM_ENVRCPT, "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"},
    {SMFIM_EOH, "i"},
    {SMFIM_EOM, "i"},
};

std::string_view macro(SMFICTX* ctx, const char* name) {
  const char* value = smfi_getsymval(ctx, const_cast<char*>(name));
  return value ? std::string_view(value) : std::string_view();
}

std::vector<std::string_view> argv_view(char** argv) {
  std::vector<std::string_view> out;
  for (; argv && *argv; ++argv) out.emplace_back(*argv);
  return out;
}

std::string address_text(const sockaddr* addr) {
  if (!addr) return {};
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) return buf;
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf)) return buf;
  }
  return {};
}

MilterServices* services() {
  return services_.load(std::memory_order_acquire);
}

// The connection's state, created on first use (negotiate or connect;
// the MTA may skip either).
ConnectionState* state_of(SMFICTX* ctx) {
  auto* state = static_cast<ConnectionState*>(smfi_getpriv(ctx));
  if (state) return state;
  auto owned = std::make_unique<ConnectionState>(services()->configs.current());
  if (smfi_setpriv(ctx, owned.get()) != MI_SUCCESS) return nullptr;
  return owned.release();
}

// Runs a callback body; an exception is logged and the mail goes on.
template <typename Body>
sfsistat guarded(const char* callback, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    try {
      spdlog::error("{}: unexpected error, mail continues: {}", callback, e.what());
    } catch (...) {
    }
  } catch (...) {
    try {
      spdlog::error("{}: unexpected error, mail continues", callback);
    } catch (...) {
    }
  }
  return SMFIS_CONTINUE;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long /*f2*/,
                      unsigned long /*f3*/, unsigned long* pf0, unsigned long* pf1,
                      unsigned long* pf2, unsigned long* pf3) {
  return guarded("negotiate", [&] {
    *pf0 = 0;  // no modifications, ever
    *pf1 = f1 & SMFIP_NOUNKNOWN;
    *pf2 = 0;
    *pf3 = 0;
    // Headers and body chunks need no reply (a round trip each saved), but
    // only when there is a state to remember that in.
    if (ConnectionState* state = state_of(ctx)) {
      *pf1 |= f1 & (SMFIP_NR_HDR | SMFIP_NR_BODY);
      state->no_header_reply = (*pf1 & SMFIP_NR_HDR) != 0;
      state->no_body_reply = (*pf1 & SMFIP_NR_BODY) != 0;
    }
    if (f0 & SMFIF_SETSYMLIST) {
      *pf0 |= SMFIF_SETSYMLIST;
      for (const auto& request : kMacroRequests)
        smfi_setsymlist(ctx, request.stage, const_cast<char*>(request.macros));
    }
    return SMFIS_CONTINUE;
  });
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) {
  return guarded("connect", [&] {
    ConnectionState* state = state_of(ctx);
    if (!state) return SMFIS_ACCEPT;  // cannot keep state: stay out of the way
    state->client.name = hostname ? hostname : std::string(macro(ctx, "{client_name}"));
    state->client.addr = address_text(hostaddr);
    if (state->client.addr.empty()) state->client.addr = std::string(macro(ctx, "{client_addr}"));
    return SMFIS_CONTINUE;
  });
}

sfsistat on_helo(SMFICTX* ctx, char* helo) {
  return guarded("helo", [&] {
    if (ConnectionState* state = state_of(ctx)) state->client.helo = helo ? helo : "";
    return SMFIS_CONTINUE;
  });
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
  return guarded("envfrom", [&] {
    ConnectionState* state = state_of(ctx);
    if (!state) return SMFIS_ACCEPT;
    const auto args = argv_view(argv);
    state->begin_message();
    state->collector.begin(args, services()->clock(), macro(ctx, "{auth_authen}"));
    // Sendmail knows the queue ID at MAIL already (Postfix: not yet); a
    // later stage's `i` replaces it, so this only helps when none comes.
    state->collector.set_queue_id(macro(ctx, "i"));
    return SMFIS_CONTINUE;
  });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
  return guarded("envrcpt", [&] {
    ConnectionState* state = state_of(ctx);
    if (!state) return SMFIS_CONTINUE;
    const auto args = argv_view(argv);
    state->collector.add_recipient(args, macro(ctx, "{rcpt_mailer}"));
    return SMFIS_CONTINUE;
  });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
  bool no_reply = false;
  const sfsistat status = guarded("header", [&] {
    ConnectionState* state = state_of(ctx);
    if (!state) return SMFIS_CONTINUE;
    no_reply = state->no_header_reply;
    state->collector.add_header(name ? name : "", value ? value : "");
    return SMFIS_CONTINUE;
  });
  return no_reply ? SMFIS_NOREPLY : status;
}

sfsistat on_eoh(SMFICTX* ctx) {
  return guarded("eoh", [&] {
    ConnectionState* state = state_of(ctx);
    if (!state) return SMFIS_CONTINUE;
    state->collector.end_of_headers();
    state->collector.set_queue_id(macro(ctx, "i"));
    return SMFIS_CONTINUE;
  });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* /*chunk*/, size_t length) {
  bool no_reply = false;
  const sfsistat status = guarded("body", [&] {
    ConnectionState* state = state_of(ctx);
    if (!state) return SMFIS_CONTINUE;
    no_reply = state->no_body_reply;
    state->collector.add_body(length);
    return SMFIS_CONTINUE;
  });
  return no_reply ? SMFIS_NOREPLY : status;
}

// Records the message; answers tempfail only when asked to on failure.
sfsistat record_at_end(ConnectionState& state, MessageRecord record) {
  const Config& config = state.config->config;
  MilterServices* svc = services();
  const auto started = std::chrono::steady_clock::now();
  // Described before the record is handed over (and moved away).
  const std::string description = describe_record(record);
  const std::string queue_id = record.queue_id;
  const Status written = svc->writer.record(
      with_deadlines(config, std::move(record)),
      std::chrono::duration_cast<std::chrono::milliseconds>(config.milter_record_timeout));
  if (written) {
    const std::chrono::duration<double, std::milli> took =
        std::chrono::steady_clock::now() - started;
    spdlog::info("recorded {} in {:.3f} ms", description, took.count());
    return SMFIS_CONTINUE;
  }
  if (config.on_error == OnError::tempfail) {
    spdlog::error("{}: NOT recorded, tempfailing (on_error = tempfail): {}", queue_id,
                  written.error().message);
    return SMFIS_TEMPFAIL;
  }
  spdlog::error("{}: NOT recorded, accepting (on_error = accept): {}", queue_id,
                written.error().message);
  return SMFIS_CONTINUE;
}

sfsistat on_eom(SMFICTX* ctx) {
  ConnectionState* state = nullptr;
  const sfsistat status = guarded("eom", [&] {
    state = state_of(ctx);
    if (!state) return SMFIS_CONTINUE;
    state->collector.set_queue_id(macro(ctx, "i"));
    std::optional<MessageRecord> record = state->collector.take(state->client);
    if (!record) return SMFIS_CONTINUE;
    if (record->queue_id.empty()) {
      spdlog::warn(
          "message from <{}> with {} ETRN-only recipient(s) has no queue ID (macro i): "
          "not recorded",
          record->envelope.sender, record->recipients.size());
      return SMFIS_CONTINUE;
    }
    return record_at_end(*state, std::move(*record));
  });
  if (state) state->end_message();
  return status;
}

sfsistat on_abort(SMFICTX* ctx) {
  return guarded("abort", [&] {
    if (auto* state = static_cast<ConnectionState*>(smfi_getpriv(ctx))) state->end_message();
    return SMFIS_CONTINUE;
  });
}

sfsistat on_close(SMFICTX* ctx) {
  return guarded("close", [&] {
    std::unique_ptr<ConnectionState> state(static_cast<ConnectionState*>(smfi_getpriv(ctx)));
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
  });
}

smfiDesc make_description() {
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("etrn-milter");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = 0;
  d.xxfi_connect = on_connect;
  d.xxfi_helo = on_helo;
  d.xxfi_envfrom = on_envfrom;
  d.xxfi_envrcpt = on_envrcpt;
  d.xxfi_header = on_header;
  d.xxfi_eoh = on_eoh;
  d.xxfi_body = on_body;
  d.xxfi_eom = on_eom;
  d.xxfi_abort = on_abort;
  d.xxfi_close = on_close;
  d.xxfi_negotiate = on_negotiate;
  return d;
}

}  // namespace

std::string unix_socket_path(const std::string& socket_spec) {
  for (std::string_view prefix : {"unix:", "local:"}) {
    if (istarts_with(socket_spec, prefix)) return socket_spec.substr(prefix.size());
  }
  if (!socket_spec.empty() && socket_spec.front() == '/') return socket_spec;
  return {};
}

Status open_milter_socket(MilterServices& services, const std::string& socket_spec) {
  services_.store(&services, std::memory_order_release);
  smfiDesc description = make_description();
  if (smfi_register(description) != MI_SUCCESS) return make_error("smfi_register failed");
  if (smfi_setconn(const_cast<char*>(socket_spec.c_str())) != MI_SUCCESS)
    return make_error("invalid socket " + socket_spec);
  if (smfi_opensocket(true) != MI_SUCCESS)
    return make_error("cannot open socket " + socket_spec +
                      " (is the directory there, is another milter running?)");
  return ok_status();
}

bool run_milter() {
  return smfi_main() == MI_SUCCESS;
}

namespace {

// Connects to our own unix socket and hangs up at once.
void poke_unix(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  (void)connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  close(fd);
}

// The same for "inet:PORT[@HOST]" / "inet6:PORT[@HOST]"; a wildcard or
// missing host means loopback.
void poke_inet(std::string_view spec) {
  const bool v6 = istarts_with(spec, "inet6:");
  spec.remove_prefix(v6 ? 6 : 5);
  const auto at = spec.find('@');
  const std::string port(spec.substr(0, at));
  std::string host = at == std::string_view::npos ? "" : std::string(spec.substr(at + 1));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "INADDR_ANY")
    host = v6 ? "::1" : "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = v6 ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) return;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    (void)connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

void poke_listener(const std::string& socket_spec) {
  if (const std::string path = unix_socket_path(socket_spec); !path.empty()) {
    poke_unix(path);
  } else if (istarts_with(socket_spec, "inet")) {
    poke_inet(socket_spec);
  }
}

}  // namespace

bool wait_for_messages_in_progress(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (messages_in_progress_.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

int messages_in_progress() {
  return messages_in_progress_.load();
}

void stop_milter(const std::string& socket_spec) {
  // smfi_stop() waits for a lock that libmilter's listener holds while it
  // polls (up to 5 s); a connection of our own ends that poll, so keep
  // connecting until smfi_stop() has returned.
  std::atomic<bool> stopped{false};
  std::thread stopper([&stopped] {
    smfi_stop();
    stopped = true;
  });
  while (!stopped) {
    poke_listener(socket_spec);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stopper.join();
}

}  // namespace etrn
