// milter_arguments_fuzz.cpp - what the milter makes of MAIL FROM and RCPT TO
// (parse_mail_arguments, parse_rcpt_arguments in milter/message_collector)
// and of a whole message's envelope and headers (MessageCollector). The
// argv is what libmilter hands over: the client's address and ESMTP
// parameters, as sent.
//
// Input (FuzzedDataProvider, see dsn_fuzz.cpp for the layout): a MAIL argv,
// up to four RCPT argvs with their {rcpt_mailer}, headers, a queue ID, and
// an ENVID, an ORCPT address and a NOTIFY set to send encoded.
// Properties: any argv parses; an ENVID and an ORCPT sent as xtext come back
// exactly, RET and SMTPUTF8 are seen; a valid NOTIFY keeps its meaning
// through the form the store keeps it in (to_string, then parse); the
// collector records only ETRN-only recipients, and its log line holds no
// control byte (an address cannot forge or break a log line); a
// recipient's domain is lower case (it is matched and grouped by it).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/model/record_log_line.hpp"
#include "common/util/xtext.hpp"
#include "milter/message_collector.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

struct Argv {
  std::vector<std::string> strings;
  std::vector<std::string_view> views() const { return {strings.begin(), strings.end()}; }
};

Argv argv_from(FuzzedDataProvider& in, int count) {
  Argv argv;
  for (int i = 0; i < count; ++i) argv.strings.push_back(in.ConsumeRandomLengthString());
  return argv;
}

etrn::Notify valid_notify(std::uint8_t bits) {
  etrn::Notify n;
  n.given = (bits & 1) != 0;
  n.never = n.given && (bits & 2) != 0;
  n.success = n.given && !n.never && (bits & 4) != 0;
  n.failure = n.given && !n.never && (bits & 8) != 0;
  n.delay = n.given && !n.never && (bits & 16) != 0;
  if (n.given && !n.never && !n.success && !n.failure && !n.delay) n.failure = true;
  return n;
}

void check_encoded_round_trip(FuzzedDataProvider& in) {
  const std::string envid = in.ConsumeRandomLengthString();
  const std::string orcpt = in.ConsumeRandomLengthString();
  const char* ret = in.ConsumeBool() ? "RET=hdrs" : "RET=FULL";
  const std::vector<std::string> mail = {"<a@sender.example>", ret,
                                         "ENVID=" + etrn::xtext_encode(envid), "SMTPUTF8"};
  const etrn::Envelope envelope = etrn::parse_mail_arguments(Argv{mail}.views());
  FUZZ_CHECK(envelope.envid == envid, "an xtext ENVID comes back exactly");
  FUZZ_CHECK(
      envelope.ret == (ret[4] == 'h' ? etrn::ReturnContent::headers : etrn::ReturnContent::full),
      "RET is seen in any case");
  FUZZ_CHECK(envelope.smtputf8, "SMTPUTF8 is seen");

  const etrn::Notify notify = valid_notify(in.ConsumeIntegral<std::uint8_t>());
  std::vector<std::string> rcpt = {"<b@customer.example>",
                                   "ORCPT=rfc822;" + etrn::xtext_encode(orcpt)};
  if (notify.given) rcpt.push_back("NOTIFY=" + notify.to_string());
  const etrn::RecipientRecord r = etrn::parse_rcpt_arguments(Argv{rcpt}.views(), "smtp");
  FUZZ_CHECK(r.dsn.orcpt == "rfc822;" + orcpt, "an xtext ORCPT comes back exactly");
  FUZZ_CHECK(r.dsn.notify == notify, "a valid NOTIFY is read as sent");
  const std::string stored = r.dsn.notify.to_string();
  const etrn::Notify restored = stored.empty() ? etrn::Notify{} : etrn::Notify::parse(stored);
  FUZZ_CHECK(restored.allows_failure_dsn() == notify.allows_failure_dsn() &&
                 restored.allows_delay_dsn() == notify.allows_delay_dsn(),
             "a valid NOTIFY keeps its meaning as stored");
}

void check_collector(FuzzedDataProvider& in) {
  static const etrn::EtrnMatcher matcher({"customer.example", ".dialup.example"}, {"etrn-only"});
  etrn::MessageCollector collector(matcher);
  const Argv mail = argv_from(in, in.ConsumeIntegralInRange(0, 6));
  collector.begin(mail.views(), 1'700'000'000, in.ConsumeRandomLengthString());
  const int recipients = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < recipients; ++i) {
    const Argv rcpt = argv_from(in, in.ConsumeIntegralInRange(0, 6));
    const std::string mailer = in.ConsumeRandomLengthString();
    const etrn::RecipientRecord parsed = etrn::parse_rcpt_arguments(rcpt.views(), mailer);
    FUZZ_CHECK(parsed.domain.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos,
               "a recipient's domain is lower case");
    collector.add_recipient(rcpt.views(), mailer);
  }
  const int headers = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < headers; ++i) {
    const std::string name = in.ConsumeRandomLengthString();
    collector.add_header(name, in.ConsumeRandomLengthString());
  }
  collector.set_size_stated_by_mta(in.ConsumeRandomLengthString());
  collector.set_queue_id(in.ConsumeRandomLengthString());
  const auto record = collector.take({});
  if (!record) return;
  for (const etrn::RecipientRecord& r : record->recipients) {
    FUZZ_CHECK(matcher.is_etrn_only(r.address, r.mailer), "only ETRN-only recipients are recorded");
  }
  // A named string: str() refers into the temporary line, which a range-for
  // over it would outlive (C++20).
  const std::string line = etrn::record_log_line("recorded", {*record, {}}).str();
  for (const char c : line) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7f, "the log line holds no control byte");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  check_encoded_round_trip(in);
  check_collector(in);
  return 0;
}
