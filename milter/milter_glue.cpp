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
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/config/config_values.hpp"
#include "common/model/record_log_line.hpp"
#include "common/util/posix_file.hpp"
#include "common/util/strings.hpp"
#include "milter/message_collector.hpp"

namespace etrn {

namespace {

std::atomic<MilterServices*> services_{nullptr};
// Messages between MAIL and end of message or abort, on all connections.
// SIGTERM waits for them before close_callbacks().
std::atomic<int> messages_in_progress_{0};
// The gate close_callbacks() shuts. A callback counts itself in before it
// looks at closed_; close_callbacks() sets closed_ before it waits for the
// count to reach 0 (both sequentially consistent), so when it returns, no
// callback that found the gate open is still running.
std::atomic<int> callbacks_running_{0};
std::atomic<bool> closed_{false};

class CallbackScope {
 public:
  CallbackScope() {
    ++callbacks_running_;
    open_ = !closed_.load();
  }
  ~CallbackScope() { --callbacks_running_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
  bool open() const { return open_; }

 private:
  bool open_ = false;
};

// The steps that need no reply (the MTA goes on without waiting) and the
// steps not wanted at all.
constexpr unsigned long kNoReplySteps =
    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH;
constexpr unsigned long kStepsNotWanted = SMFIP_NOBODY | SMFIP_NOUNKNOWN;

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
  std::string mta_host;        // the MTA's own name (macro j): the records' default instance
  unsigned long no_reply = 0;  // the SMFIP_NR_* flags negotiated
  bool in_message = false;     // counted in messages_in_progress_

  void begin_message() {
    if (!in_message) ++messages_in_progress_;
    in_message = true;
  }
  // Forgets the message (accepted at DATA, end of message, abort, close).
  void end_message() {
    collector.reset();
    if (in_message) --messages_in_progress_;
    in_message = false;
  }
};

// The macros we ask the MTA for (when it lets us choose), by stage.
// Postfix replaces its own list for a stage with the one we send, so each
// list repeats the defaults we rely on. {msg_size} is Sendmail's.
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

ConnectionState* existing_state(SMFICTX* ctx) {
  return static_cast<ConnectionState*>(smfi_getpriv(ctx));
}

// The connection's state, created on first use (negotiate or connect;
// the MTA may skip either).
ConnectionState* state_of(SMFICTX* ctx) {
  if (ConnectionState* state = existing_state(ctx)) return state;
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

// The answer to a step: none at all where the MTA agreed to need none.
sfsistat answer(const ConnectionState* state, unsigned long no_reply_flag, sfsistat status) {
  return state && (state->no_reply & no_reply_flag) != 0 ? SMFIS_NOREPLY : status;
}

// The frame of every callback but negotiate: the gate, the connection's
// state, the noexcept wall, the no-reply rule. `body` gets the state.
template <typename Body>
sfsistat callback(SMFICTX* ctx, const char* name, unsigned long no_reply_flag,
                  Body&& body) noexcept {
  const CallbackScope scope;
  if (!scope.open()) return answer(existing_state(ctx), no_reply_flag, SMFIS_CONTINUE);
  ConnectionState* state = nullptr;
  const sfsistat status = guarded(name, [&] {
    state = state_of(ctx);
    return state ? body(*state) : SMFIS_CONTINUE;
  });
  return answer(state, no_reply_flag, status);
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long /*f2*/,
                      unsigned long /*f3*/, unsigned long* pf0, unsigned long* pf1,
                      unsigned long* pf2, unsigned long* pf3) {
  *pf0 = 0;  // no modifications, ever
  *pf1 = f1 & kStepsNotWanted;
  *pf2 = 0;
  *pf3 = 0;
  const CallbackScope scope;
  if (!scope.open()) return SMFIS_CONTINUE;
  return guarded("negotiate", [&] {
    // No reply is needed only where a state remembers not to send one.
    if (ConnectionState* state = state_of(ctx)) {
      state->no_reply = f1 & kNoReplySteps;
      *pf1 |= state->no_reply;
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
  return callback(ctx, "connect", SMFIP_NR_CONN, [&](ConnectionState& state) {
    state.client.name = hostname ? hostname : std::string(macro(ctx, "{client_name}"));
    state.client.addr = address_text(hostaddr);
    if (state.client.addr.empty()) state.client.addr = std::string(macro(ctx, "{client_addr}"));
    state.mta_host = macro(ctx, "j");
    return SMFIS_CONTINUE;
  });
}

sfsistat on_helo(SMFICTX* ctx, char* helo) {
  return callback(ctx, "helo", SMFIP_NR_HELO, [&](ConnectionState& state) {
    state.client.helo = helo ? helo : "";
    return SMFIS_CONTINUE;
  });
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
  return callback(ctx, "envfrom", SMFIP_NR_MAIL, [&](ConnectionState& state) {
    const auto args = argv_view(argv);
    state.begin_message();
    state.collector.begin(args, services()->clock(), macro(ctx, "{auth_authen}"));
    // Sendmail knows the queue ID at MAIL already (Postfix: not yet); a
    // later stage's `i` replaces it, so this only helps when none comes.
    state.collector.set_queue_id(macro(ctx, "i"));
    return SMFIS_CONTINUE;
  });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
  return callback(ctx, "envrcpt", SMFIP_NR_RCPT, [&](ConnectionState& state) {
    state.collector.add_recipient(argv_view(argv), macro(ctx, "{rcpt_mailer}"));
    return SMFIS_CONTINUE;
  });
}

// After the last RCPT: a message without an ETRN-only recipient is
// accepted here, and the MTA sends nothing more of it.
sfsistat on_data(SMFICTX* ctx) {
  return callback(ctx, "data", 0, [&](ConnectionState& state) {
    if (state.collector.has_etrn_recipients()) return SMFIS_CONTINUE;
    state.end_message();
    return SMFIS_ACCEPT;
  });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
  return callback(ctx, "header", SMFIP_NR_HDR, [&](ConnectionState& state) {
    state.collector.add_header(name ? name : "", value ? value : "");
    return SMFIS_CONTINUE;
  });
}

sfsistat on_eoh(SMFICTX* ctx) {
  return callback(ctx, "eoh", SMFIP_NR_EOH, [&](ConnectionState& state) {
    state.collector.set_queue_id(macro(ctx, "i"));
    return SMFIS_CONTINUE;
  });
}

// Hands the record to the writer; when it cannot take it, on_error decides.
sfsistat record_at_end(ConnectionState& state, MessageRecord record) {
  const Config& config = state.config->config;
  RecordWriter& writer = services()->writer;
  const std::string queue_id = record.queue_id;
  // The host it is queued on; '' (no j, no instance) counts as every host's.
  record.instance = config.instance.empty() ? state.mta_host : config.instance;
  const Submission handed = writer.submit(with_deadlines(config, std::move(record)));
  if (handed == Submission::queued) return SMFIS_CONTINUE;
  const bool tempfail = config.on_error == OnError::tempfail;
  spdlog::error("{}: NOT recorded, {} (on_error = {}): {} ({} not recorded since start)", queue_id,
                tempfail ? "tempfailing" : "accepting", to_string(config.on_error),
                not_queued_because(handed), writer.counts().refused);
  return tempfail ? SMFIS_TEMPFAIL : SMFIS_CONTINUE;
}

sfsistat on_eom(SMFICTX* ctx) {
  return callback(ctx, "eom", 0, [&](ConnectionState& state) {
    state.collector.set_queue_id(macro(ctx, "i"));
    state.collector.set_size_stated_by_mta(macro(ctx, "{msg_size}"));
    if (state.collector.is_sweeper_copy() && state.collector.has_etrn_recipients())
      spdlog::info("{}: a copy the sweeper re-injected: the sweeper records it",
                   state.collector.queue_id());
    std::optional<MessageRecord> record = state.collector.take(state.client);
    state.end_message();
    if (!record) return SMFIS_CONTINUE;
    if (record->queue_id.empty()) {
      record->queue_id = "NOQUEUE";  // Postfix's word for mail with no queue ID
      spdlog::warn("{}", record_log_line("NOT recorded", {std::move(*record), {}})
                             .phrase("no queue ID (macro i)")
                             .str());
      return SMFIS_CONTINUE;
    }
    return record_at_end(state, std::move(*record));
  });
}

sfsistat on_abort(SMFICTX* ctx) {
  return callback(ctx, "abort", 0, [](ConnectionState& state) {
    state.end_message();
    return SMFIS_CONTINUE;
  });
}

sfsistat on_close(SMFICTX* ctx) {
  const CallbackScope scope;
  if (!scope.open()) return SMFIS_CONTINUE;
  return guarded("close", [&] {
    std::unique_ptr<ConnectionState> state(existing_state(ctx));
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
  d.xxfi_data = on_data;
  d.xxfi_header = on_header;
  d.xxfi_eoh = on_eoh;
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

void stop_listening(const std::string& socket_spec) {
  const std::string path = unix_socket_path(socket_spec);
  struct stat st {};
  if (path.empty() || lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  if (unlink(path.c_str()) != 0)
    spdlog::info("socket {} stays ({}): the MTA's connections fail once the milter is gone", path,
                 errno_text());
}

void close_callbacks() {
  closed_ = true;
  while (callbacks_running_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  services_.store(nullptr, std::memory_order_release);
}

}  // namespace etrn
