// record_writer_rate.cpp - the milter's writer alone: how many records a
// second it commits into a database, an SQLite file or a PostgreSQL URI,
// when it never waits for work (bench/README.md, benchmark 2).
//
//   etrn-bench-record-writer --database TARGET [--records 20000] [--recipients 1]
//
// Hands N records (each with --recipients ETRN-only recipients) to a
// RecordWriter at once, as a load faster than the database would, then
// times until the writer has committed them all. Its "recorded" log lines
// are formatted as in the milter but written nowhere, so the figure is
// the writer and the database, not a terminal. Prints one JSON object:
// records, seconds, rate (records/s), refused.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>

#include "milter/record_writer.hpp"

namespace {

struct Options {
  std::string database;
  long records = 20000;
  int recipients = 1;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "etrn-bench-record-writer: %s\nusage: etrn-bench-record-writer --database TARGET "
               "[--records N] [--recipients N]\n",
               why.c_str());
  std::exit(64);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) usage("missing value for " + std::string(name));
    const std::string value = argv[++i];
    if (name == "--database") {
      o.database = value;
    } else if (name == "--records") {
      o.records = std::atol(value.c_str());
    } else if (name == "--recipients") {
      o.recipients = std::atoi(value.c_str());
    } else {
      usage("unknown option " + std::string(name));
    }
  }
  if (o.database.empty()) usage("--database is required");
  if (o.records < 1 || o.records > static_cast<long>(etrn::RecordWriter::kCapacity))
    usage("--records must be 1.." + std::to_string(etrn::RecordWriter::kCapacity));
  return o;
}

etrn::MessageToRecord record(long n, int recipients, etrn::EpochSeconds now) {
  etrn::MessageToRecord item;
  item.message.queue_id = "B" + std::to_string(now) + "X" + std::to_string(n);
  item.message.arrival_time = now;
  item.message.envelope.sender = "sender@sender.example";
  item.message.priority = etrn::Priority::normal;
  item.message.size = 2000;
  item.message.message_id = "<" + std::to_string(n) + "@sender.example>";
  item.message.subject = "benchmark";
  item.message.client_addr = "127.0.0.1";
  item.message.helo = "client.example";
  for (int r = 0; r < recipients; ++r) {
    etrn::RecipientRecord recipient;
    recipient.address = "rcpt" + std::to_string(r) + "@customer.example";
    recipient.domain = "customer.example";
    recipient.mailer = "etrn-only";
    item.message.recipients.push_back(recipient);
    item.deadlines.push_back(etrn::Deadlines{now + 4 * 3600, now + 48 * 3600});
  }
  return item;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  spdlog::set_default_logger(spdlog::null_logger_mt("bench"));
  spdlog::set_level(spdlog::level::info);
  const auto now = static_cast<etrn::EpochSeconds>(std::time(nullptr));
  etrn::RecordWriter writer(o.database, {});
  if (etrn::Status opened = writer.open_now(); !opened) {
    std::fprintf(stderr, "etrn-bench-record-writer: %s\n", opened.error().message.c_str());
    return 74;
  }
  const auto started = std::chrono::steady_clock::now();
  for (long n = 0; n < o.records; ++n) writer.submit(record(n, o.recipients, now));
  const std::uint64_t want = static_cast<std::uint64_t>(o.records) - writer.counts().refused;
  while (writer.counts().committed < want)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const etrn::WriterCounts counts = writer.stop();
  std::printf("{\"records\": %llu, \"seconds\": %.3f, \"rate\": %.0f, \"refused\": %llu}\n",
              static_cast<unsigned long long>(counts.committed), seconds,
              static_cast<double>(counts.committed) / seconds,
              static_cast<unsigned long long>(counts.refused));
  return 0;
}
