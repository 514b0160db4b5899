// dsn_fuzz.cpp - the DSN builder (build_dsn) on hostile envelopes and
// originals: the sender, recipients, ORCPT, ENVID, reporting host,
// Message-ID and the original message come from the input, with both
// kinds, SMTPUTF8 on and off, RET=FULL, HDRS or none, a headers-only
// original and any size limit. Every DSN built is checked by
// dsn_properties.cpp (no header injection, LF discipline, line lengths,
// the MIME boundary, the delivery-status fields, the returned original).
//
// The input is read with libFuzzer's FuzzedDataProvider: strings from the
// front (each ends at a backslash followed by another byte; "\\" is one
// backslash), in the order they are consumed below; the original message is
// what is left; the choices come from the bytes at the end, last byte
// first. tests/fuzz/make_seeds.py writes seeds in this layout.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <limits>

#include "common/dsn/dsn.hpp"
#include "tests/fuzz/dsn_properties.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using etrn::EpochSeconds;

constexpr const char* kGoodSender = "alice@sender.example";
constexpr const char* kGoodReportingMta = "mx.example.net";
constexpr const char* kGoodMessageId = "20261201174100.failed.3F1C2A7225E@mx.example.net";

// Whose value is fuzzed and whose is a known good one: a good sender,
// host and Message-ID must always give a DSN.
struct Choices {
  bool fuzzed_sender = false;
  unsigned reporting_mta = 0;  // 0 good, 1 absolute name, 2 address literal, 3 fuzzed
  bool fuzzed_message_id = false;
};

EpochSeconds any_time(FuzzedDataProvider& in) {
  // Mostly near now, sometimes anywhere: queue files give arrival times.
  if (in.ConsumeBool()) return in.ConsumeIntegral<EpochSeconds>();
  return 1'700'000'000 + in.ConsumeIntegralInRange<EpochSeconds>(-100'000'000, 100'000'000);
}

etrn::Notify notify_from(std::uint8_t bits) {
  etrn::Notify n;
  n.given = (bits & 1) != 0;
  n.never = (bits & 2) != 0;
  n.success = (bits & 4) != 0;
  n.failure = (bits & 8) != 0;
  n.delay = (bits & 16) != 0;
  return n;
}

std::string reporting_mta(FuzzedDataProvider& in, unsigned choice) {
  switch (choice) {
    case 0:
      return kGoodReportingMta;
    case 1:
      return std::string(kGoodReportingMta) + ".";
    case 2:
      return "[192.0.2.25]";
    default:
      return in.ConsumeRandomLengthString();
  }
}

etrn::DsnInput input_from(FuzzedDataProvider& in, Choices& choices) {
  etrn::DsnInput input;
  input.kind = in.ConsumeBool() ? etrn::DsnKind::delayed : etrn::DsnKind::failed;
  input.envelope.smtputf8 = in.ConsumeBool();
  input.envelope.ret = static_cast<etrn::ReturnContent>(in.ConsumeIntegralInRange(0, 2));
  input.original_is_headers_only = in.ConsumeBool();
  input.size_limit = in.ConsumeIntegralInRange<std::size_t>(0, 100'000);
  choices.fuzzed_sender = in.ConsumeBool();
  choices.reporting_mta = in.ConsumeIntegralInRange(0u, 3u);
  choices.fuzzed_message_id = in.ConsumeBool();
  input.arrival_time = any_time(in);
  input.now = 1'700'000'000 + in.ConsumeIntegralInRange<EpochSeconds>(0, 1'000'000'000);
  const int recipients = in.ConsumeIntegralInRange(1, 4);

  input.envelope.sender = choices.fuzzed_sender ? in.ConsumeRandomLengthString() : kGoodSender;
  input.envelope.envid = in.ConsumeRandomLengthString();
  input.queue_id = in.ConsumeRandomLengthString();
  input.reporting_mta = reporting_mta(in, choices.reporting_mta);
  input.message_id = choices.fuzzed_message_id ? in.ConsumeRandomLengthString() : kGoodMessageId;
  for (int i = 0; i < recipients; ++i) {
    etrn::DsnRecipient r;
    r.dsn.notify = notify_from(in.ConsumeIntegral<std::uint8_t>());
    r.expires_at = any_time(in);
    r.address = in.ConsumeRandomLengthString();
    r.dsn.orcpt = in.ConsumeRandomLengthString();
    r.domain = in.ConsumeRandomLengthString();
    r.policy = in.ConsumeRandomLengthString();
    input.recipients.push_back(std::move(r));
  }
  input.original = in.ConsumeRemainingBytesAsString();
  return input;
}

bool any_recipient_address(const etrn::DsnInput& input) {
  for (const auto& r : input.recipients) {
    if (!r.address.empty()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Choices choices;
  const etrn::DsnInput input = input_from(in, choices);
  const auto dsn = etrn::build_dsn(input);
  if (!dsn) {
    const bool all_good = !choices.fuzzed_sender && choices.reporting_mta < 3 &&
                          !choices.fuzzed_message_id && any_recipient_address(input);
    FUZZ_CHECK(!all_good, "a good sender, host and Message-ID always get their DSN");
    return 0;
  }
  etrn::fuzz::check_dsn(input, *dsn);
  return 0;
}
