// milter_load.cpp - a milter-protocol load driver for bench/run.
//
// Plays the MTA's side of the milter protocol (version 6, as Postfix 3.7
// speaks it; the wire format is libmilter's mfdef.h) against a milter on a
// unix socket, from many concurrent connections, and measures messages per
// second and the end-of-message latency: the time from sending BODYEOB
// (with its macro packet) to reading the milter's final reply, which is
// what an SMTP client waits for after its final ".".
//
//   etrn-bench-milter-load --socket unix:/path [--connections 20]
//       [--messages 20000] [--per-connection 10] [--recipients 1]
//       [--domain customer.example] [--mailer etrn-only] [--body-bytes 2000]
//       [--id-salt N]
//
// Each connection: OPTNEG, CONNECT, HELO, then --per-connection messages of
// MAIL, RCPT (with {rcpt_mailer}), DATA, 7 headers, EOH, one BODY chunk,
// BODYEOB, each with the macros Postfix sends ('i' = a unique short-form
// queue ID at MAIL, EOH and EOM), then QUIT. Packets that get no reply are
// buffered and written with the next one that does, as Postfix's milter8
// client does. The negotiated protocol flags are honoured (steps the milter
// asked not to get are not sent, replies it will not send are not awaited).
//
// Prints one JSON object: connections, messages, seconds, rate,
// p50_ms/p90_ms/p99_ms/max_ms of the EOM latency, and counts of replies
// other than continue/accept (tempfail, reject, errors).
#include <arpa/inet.h>
#include <libmilter/mfdef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string socket_path;
  int connections = 20;
  long messages = 20000;
  int per_connection = 10;
  int recipients = 1;
  std::string domain = "customer.example";
  std::string mailer = "etrn-only";
  int body_bytes = 2000;
  std::uint64_t id_salt = static_cast<std::uint64_t>(std::time(nullptr)) & 0xFFFF;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "etrn-bench-milter-load: %s\nusage: etrn-bench-milter-load --socket unix:/path "
               "[--connections N] [--messages N] [--per-connection N] [--recipients N] "
               "[--domain D] [--mailer M] [--body-bytes N] [--id-salt N]\n",
               why.c_str());
  std::exit(64);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) usage("missing value for " + std::string(name));
    const std::string value = argv[++i];
    if (name == "--socket") {
      if (value.rfind("unix:", 0) != 0) usage("only unix: sockets");
      o.socket_path = value.substr(5);
    } else if (name == "--connections") {
      o.connections = std::stoi(value);
    } else if (name == "--messages") {
      o.messages = std::stol(value);
    } else if (name == "--per-connection") {
      o.per_connection = std::stoi(value);
    } else if (name == "--recipients") {
      o.recipients = std::stoi(value);
    } else if (name == "--domain") {
      o.domain = value;
    } else if (name == "--mailer") {
      o.mailer = value;
    } else if (name == "--body-bytes") {
      o.body_bytes = std::stoi(value);
    } else if (name == "--id-salt") {
      o.id_salt = std::stoull(value) & 0xFFFF;
    } else {
      usage("unknown option " + std::string(name));
    }
  }
  if (o.socket_path.empty()) usage("--socket is required");
  if (o.connections < 1 || o.messages < 1 || o.per_connection < 1 || o.recipients < 1)
    usage("counts must be positive");
  return o;
}

// What one worker saw.
struct Tally {
  std::vector<double> eom_ms;
  long tempfail = 0;
  long reject = 0;
  long early = 0;  // a final reply (accept, reject...) before end of message
  long errors = 0;
};

class ProtocolError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One milter connection: packet framing, buffered writes, reply reading.
class MilterWire {
 public:
  explicit MilterWire(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw ProtocolError("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      const std::string err = std::strerror(errno);
      ::close(fd_);
      throw ProtocolError("connect " + path + ": " + err);
    }
  }
  ~MilterWire() { ::close(fd_); }
  MilterWire(const MilterWire&) = delete;
  MilterWire& operator=(const MilterWire&) = delete;

  // Queues one packet: 4-byte length (command + data), command, data.
  void put(char command, std::string_view data = {}) {
    const std::uint32_t length = htonl(static_cast<std::uint32_t>(data.size() + 1));
    out_.append(reinterpret_cast<const char*>(&length), 4);
    out_.push_back(command);
    out_.append(data);
  }

  void flush() {
    std::size_t done = 0;
    while (done < out_.size()) {
      const ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw ProtocolError("write: " + std::string(std::strerror(errno)));
      done += static_cast<std::size_t>(n);
    }
    out_.clear();
  }

  // Flushes, then reads one packet; returns its command, data in `data`.
  char read_packet(std::string& data) {
    flush();
    std::uint32_t length = 0;
    read_exactly(reinterpret_cast<char*>(&length), 4);
    length = ntohl(length);
    if (length < 1 || length > (1u << 20)) throw ProtocolError("bad reply length");
    std::string body(length, '\0');
    read_exactly(body.data(), length);
    data.assign(body, 1);
    return body[0];
  }

  // Reads until a reply that ends the step (skipping progress and
  // modification requests); returns its command.
  char read_final_reply() {
    std::string data;
    for (;;) {
      const char c = read_packet(data);
      switch (c) {
        case SMFIR_CONTINUE:
        case SMFIR_ACCEPT:
        case SMFIR_REJECT:
        case SMFIR_TEMPFAIL:
        case SMFIR_DISCARD:
        case SMFIR_REPLYCODE:
        case SMFIR_SKIP:
        case SMFIR_SHUTDOWN:
        case SMFIR_CONN_FAIL:
          return c;
        default:
          continue;  // SMFIR_PROGRESS, header/recipient changes...
      }
    }
  }

 private:
  void read_exactly(char* buf, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::read(fd_, buf + done, n - done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw ProtocolError(got == 0 ? "milter closed the connection" : "read error");
      done += static_cast<std::size_t>(got);
    }
  }

  int fd_ = -1;
  std::string out_;
};

std::string u32(std::uint32_t v) {
  v = htonl(v);
  return std::string(reinterpret_cast<const char*>(&v), 4);
}

// NUL-terminated strings back to back, as the protocol packs them.
std::string strings(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) {
    s.append(p);
    s.push_back('\0');
  }
  return s;
}

std::string macros(char stage, std::initializer_list<std::string_view> name_values) {
  std::string s(1, stage);
  for (auto p : name_values) {
    s.append(p);
    s.push_back('\0');
  }
  return s;
}

// The protocol steps the milter negotiated away (SMFIP_NO*) and the
// replies it will not send (SMFIP_NR_*).
struct Negotiated {
  std::uint32_t protocol = 0;
  bool sends(std::uint32_t no_flag) const { return (protocol & no_flag) == 0; }
  bool replies(std::uint32_t nr_flag) const { return (protocol & nr_flag) == 0; }
};

constexpr std::uint32_t kOfferedActions = 0x1FF;      // all, including SMFIF_SETSYMLIST
constexpr std::uint32_t kOfferedProtocol = 0x1FFFFF;  // every NO*/NR* bit Postfix 3.7 offers

Negotiated negotiate(MilterWire& wire) {
  wire.put(SMFIC_OPTNEG, u32(SMFI_PROT_VERSION) + u32(kOfferedActions) + u32(kOfferedProtocol));
  std::string data;
  if (wire.read_packet(data) != SMFIC_OPTNEG || data.size() < 12)
    throw ProtocolError("bad OPTNEG reply");
  std::uint32_t protocol = 0;
  std::memcpy(&protocol, data.data() + 8, 4);
  return Negotiated{ntohl(protocol)};
}

// Sends a step and, unless the milter said it will not reply, waits for
// the reply; true when the message (or connection) goes on.
bool step(MilterWire& wire, const Negotiated& n, std::uint32_t nr_flag, char command,
          std::string_view data) {
  wire.put(command, data);
  if (!n.replies(nr_flag)) return true;
  return wire.read_final_reply() == SMFIR_CONTINUE;
}

// Everything the same for all messages, built once.
struct MessageTemplate {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<std::string> recipients;
};

MessageTemplate make_template(const Options& o) {
  MessageTemplate t;
  for (int r = 0; r < o.recipients; ++r)
    t.recipients.push_back("rcpt" + std::to_string(r) + "@" + o.domain);
  std::string to;
  for (const auto& r : t.recipients) to += (to.empty() ? "" : ", ") + r;
  t.headers = {
      {"From", "Bench Sender <bench@sender.example>"},  {"To", to},
      {"Subject", "milter load test message"},          {"Date", "Sun, 29 Nov 2026 04:00:00 +0000"},
      {"Message-ID", "<bench.message@client.example>"}, {"MIME-Version", "1.0"},
      {"Content-Type", "text/plain; charset=us-ascii"}};
  const std::string line = "The quick brown fox jumps over the lazy dog, again and again.\r\n";
  while (static_cast<int>(t.body.size()) < o.body_bytes) t.body += line;
  t.body.resize(static_cast<std::size_t>(o.body_bytes));
  return t;
}

// A short-form Postfix queue ID (5 hex digits, then an "inode" in hex),
// unique for `serial` within a run and, through the salt, across runs.
std::string queue_id(std::uint64_t serial, std::uint64_t salt) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05llX%llX", static_cast<unsigned long long>(serial & 0xFFFFF),
                static_cast<unsigned long long>((salt + 0x10000) << 24 | serial));
  return buf;
}

// One message on an open connection; records its EOM latency.
void send_message(MilterWire& wire, const Negotiated& n, const MessageTemplate& t,
                  const std::string& mailer, const std::string& id, Tally& tally) {
  const std::string i = id;
  wire.put(SMFIC_MACRO, macros(SMFIC_MAIL, {"i", i, "{mail_addr}", "bench@sender.example"}));
  if (n.sends(SMFIP_NOMAIL) && !step(wire, n, SMFIP_NR_MAIL, SMFIC_MAIL,
                                     strings({"<bench@sender.example>", "BODY=8BITMIME"}))) {
    ++tally.early;
    return;
  }
  for (const auto& rcpt : t.recipients) {
    wire.put(SMFIC_MACRO, macros(SMFIC_RCPT, {"i", i, "{rcpt_addr}", rcpt, "{rcpt_host}",
                                              "[127.0.0.1]:10025", "{rcpt_mailer}", mailer}));
    if (n.sends(SMFIP_NORCPT) &&
        !step(wire, n, SMFIP_NR_RCPT, SMFIC_RCPT, strings({"<" + rcpt + ">"}))) {
      ++tally.early;
      return;
    }
  }
  if (n.sends(SMFIP_NODATA) && !step(wire, n, SMFIP_NR_DATA, SMFIC_DATA, {})) {
    ++tally.early;
    return;
  }
  if (n.sends(SMFIP_NOHDRS)) {
    for (const auto& [name, value] : t.headers) {
      const std::string v = name == "Message-ID" ? "<" + id + "@client.example>" : value;
      if (!step(wire, n, SMFIP_NR_HDR, SMFIC_HEADER, strings({name, " " + v}))) {
        ++tally.early;
        return;
      }
    }
  }
  wire.put(SMFIC_MACRO, macros(SMFIC_EOH, {"i", i}));
  if (n.sends(SMFIP_NOEOH) && !step(wire, n, SMFIP_NR_EOH, SMFIC_EOH, {})) {
    ++tally.early;
    return;
  }
  if (n.sends(SMFIP_NOBODY) && !step(wire, n, SMFIP_NR_BODY, SMFIC_BODY, t.body)) {
    ++tally.early;
    return;
  }
  const auto start = SteadyClock::now();
  wire.put(SMFIC_MACRO, macros(SMFIC_BODYEOB, {"i", i}));
  wire.put(SMFIC_BODYEOB);
  const char reply = wire.read_final_reply();
  const auto took = SteadyClock::now() - start;
  tally.eom_ms.push_back(std::chrono::duration<double, std::milli>(took).count());
  if (reply == SMFIR_TEMPFAIL) ++tally.tempfail;
  if (reply == SMFIR_REJECT || reply == SMFIR_REPLYCODE) ++tally.reject;
}

// One connection carrying `count` messages starting at serial `first`.
void run_connection(const Options& o, const MessageTemplate& t, long first, long count,
                    Tally& tally) {
  MilterWire wire(o.socket_path);
  const Negotiated n = negotiate(wire);
  wire.put(SMFIC_MACRO,
           macros(SMFIC_CONNECT,
                  {"j", "mx.provider.example", "_", "client.example [127.0.0.1]", "{daemon_name}",
                   "bench", "{client_addr}", "127.0.0.1", "{client_name}", "client.example"}));
  if (n.sends(SMFIP_NOCONNECT) && !step(wire, n, SMFIP_NR_CONN, SMFIC_CONNECT,
                                        strings({"client.example"}) + "4" +
                                            std::string("\x30\x39", 2) + strings({"127.0.0.1"}))) {
    ++tally.early;
    return;
  }
  if (n.sends(SMFIP_NOHELO) &&
      !step(wire, n, SMFIP_NR_HELO, SMFIC_HELO, strings({"client.example"}))) {
    ++tally.early;
    return;
  }
  for (long k = 0; k < count; ++k)
    send_message(wire, n, t, o.mailer, queue_id(static_cast<std::uint64_t>(first + k), o.id_salt),
                 tally);
  wire.put(SMFIC_QUIT);
  wire.flush();
}

void worker(const Options& o, const MessageTemplate& t, std::atomic<long>& next, Tally& tally) {
  for (;;) {
    const long first = next.fetch_add(o.per_connection);
    if (first >= o.messages) return;
    const long count = std::min<long>(o.per_connection, o.messages - first);
    try {
      run_connection(o, t, first, count, tally);
    } catch (const ProtocolError& e) {
      if (tally.errors++ == 0) std::fprintf(stderr, "etrn-bench-milter-load: %s\n", e.what());
    }
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  const MessageTemplate t = make_template(o);
  std::vector<Tally> tallies(static_cast<std::size_t>(o.connections));
  std::atomic<long> next{0};
  const auto start = SteadyClock::now();
  {
    std::vector<std::jthread> threads;
    for (auto& tally : tallies)
      threads.emplace_back([&o, &t, &next, &tally] { worker(o, t, next, tally); });
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  Tally all;
  for (auto& tally : tallies) {
    all.eom_ms.insert(all.eom_ms.end(), tally.eom_ms.begin(), tally.eom_ms.end());
    all.tempfail += tally.tempfail;
    all.reject += tally.reject;
    all.early += tally.early;
    all.errors += tally.errors;
  }
  std::sort(all.eom_ms.begin(), all.eom_ms.end());
  const auto done = static_cast<double>(all.eom_ms.size());
  std::printf(
      "{\"connections\": %d, \"per_connection\": %d, \"messages\": %zu, \"seconds\": %.4f, "
      "\"rate\": %.1f, \"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f, "
      "\"tempfail\": %ld, \"reject\": %ld, \"early\": %ld, \"errors\": %ld}\n",
      o.connections, o.per_connection, all.eom_ms.size(), seconds, done / seconds,
      percentile(all.eom_ms, 0.50), percentile(all.eom_ms, 0.90), percentile(all.eom_ms, 0.99),
      all.eom_ms.empty() ? 0.0 : all.eom_ms.back(), all.tempfail, all.reject, all.early,
      all.errors);
  return all.errors == 0 && static_cast<long>(all.eom_ms.size()) == o.messages ? 0 : 1;
}
