// fill_queue.cpp - a synthetic Postfix queue for the sweeper benchmark.
//
// Writes what `postqueue -j` would print for COUNT deferred messages, each
// with one ETRN-only recipient, and records the same messages in an
// etrn-sweeper database through the store's own record_messages() (so the
// rows are exactly what the milter would have written, in whatever schema
// the store has today).
//
//   etrn-bench-fill-queue --count N --json FILE --database FILE
//       [--domain customer.example] [--arrival EPOCH] [--expire-after SECONDS]
//
// Arrival defaults to an hour ago and expiry to 48 h after arrival, so a
// sweep at the real time reconciles without warning or expiring anything.
// Queue IDs are Postfix short-form IDs, unique within the file.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/database.hpp"
#include "common/store/records.hpp"

namespace {

struct Options {
  long count = 0;
  std::string json_path;
  std::string database_path;
  std::string domain = "customer.example";
  etrn::EpochSeconds arrival = static_cast<etrn::EpochSeconds>(std::time(nullptr)) - 3600;
  etrn::EpochSeconds expire_after = 48 * 3600;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--count")
      o.count = std::stol(value);
    else if (name == "--json")
      o.json_path = value;
    else if (name == "--database")
      o.database_path = value;
    else if (name == "--domain")
      o.domain = value;
    else if (name == "--arrival")
      o.arrival = std::stoll(value);
    else if (name == "--expire-after")
      o.expire_after = std::stoll(value);
    else
      throw std::invalid_argument("unknown option " + std::string(name));
  }
  if (o.count < 1 || o.json_path.empty() || o.database_path.empty())
    throw std::invalid_argument("--count, --json and --database are required");
  return o;
}

std::string queue_id(long serial) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05lX%lX", serial & 0xFFFFF, 0x1000000 + serial);
  return buf;
}

etrn::MessageToRecord message(const Options& o, long serial) {
  etrn::MessageToRecord m;
  m.message.queue_id = queue_id(serial);
  m.message.arrival_time = o.arrival;
  m.message.envelope.sender = "sender" + std::to_string(serial % 1000) + "@sender.example";
  m.message.size = 1500;
  m.message.message_id = "<" + m.message.queue_id + "@client.example>";
  m.message.subject = "synthetic message";
  m.message.client_addr = "127.0.0.1";
  m.message.client_name = "client.example";
  m.message.helo = "client.example";
  etrn::RecipientRecord r;
  r.address = "user" + std::to_string(serial) + "@" + o.domain;
  r.domain = o.domain;
  r.mailer = "etrn-only";
  m.message.recipients.push_back(r);
  m.deadlines.push_back(etrn::Deadlines{std::nullopt, o.arrival + o.expire_after});
  return m;
}

void write_json_line(std::FILE* out, const etrn::MessageToRecord& m) {
  std::fprintf(
      out,
      "{\"queue_name\": \"deferred\", \"queue_id\": \"%s\", \"arrival_time\": %lld, "
      "\"message_size\": %lld, \"forced_expire\": false, \"sender\": \"%s\", "
      "\"recipients\": [{\"address\": \"%s\", \"delay_reason\": \"deferred transport\"}]}\n",
      m.message.queue_id.c_str(), static_cast<long long>(m.message.arrival_time),
      static_cast<long long>(m.message.size), m.message.envelope.sender.c_str(),
      m.message.recipients[0].address.c_str());
}

int run(const Options& o) {
  auto db = etrn::Database::open(o.database_path, etrn::OpenMode::read_write_create);
  if (!db) {
    std::cerr << "etrn-bench-fill-queue: " << db.error().message << "\n";
    return 74;
  }
  std::FILE* out = std::fopen(o.json_path.c_str(), "w");
  if (!out) {
    std::perror(o.json_path.c_str());
    return 73;
  }
  constexpr long kBatch = 20000;
  std::vector<etrn::MessageToRecord> batch;
  for (long serial = 0; serial < o.count; ++serial) {
    batch.push_back(message(o, serial));
    write_json_line(out, batch.back());
    if (static_cast<long>(batch.size()) == kBatch || serial + 1 == o.count) {
      auto ids = etrn::record_messages(**db, batch, etrn::RecordSource::milter, o.arrival);
      if (!ids) {
        std::cerr << "etrn-bench-fill-queue: " << ids.error().message << "\n";
        return 74;
      }
      batch.clear();
    }
  }
  return std::fclose(out) == 0 ? 0 : 74;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "etrn-bench-fill-queue: " << e.what() << "\n";
    return 64;
  }
}
