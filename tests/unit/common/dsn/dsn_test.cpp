// dsn_test.cpp - build_dsn: golden files, read-back of the MIME structure
// and DSN fields, and hostile envelope data.
#include "common/dsn/dsn.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "tests/unit/common/dsn/dsn_test_support.hpp"

namespace etrn {
namespace {

using namespace dsn_test;

std::string build_or_fail(const DsnInput& input) {
  const Result<std::string> dsn = build_dsn(input);
  EXPECT_TRUE(dsn.ok()) << "build_dsn failed: " << (dsn.ok() ? "" : dsn.error().message);
  return dsn.ok() ? *dsn : std::string();
}

std::vector<std::string> content_types(const ParsedDsn& dsn) {
  std::vector<std::string> types;
  for (const ParsedPart& part : dsn.parts) types.push_back(part.headers.at("content-type"));
  return types;
}

// The header section of the DSN itself (before the first blank line).
std::string top_header_section(const std::string& dsn) {
  return dsn.substr(0, dsn.find("\n\n") + 1);
}

bool has_line_starting_with(const std::string& text, const std::string& prefix) {
  return text.starts_with(prefix) || text.find("\n" + prefix) != std::string::npos;
}

// --- golden files --------------------------------------------------------

TEST(BuildDsn, FailedDsnWithTwoRecipientsOrcptAndEnvidMatchesGoldenFile) {
  expect_matches_golden(build_or_fail(failed_input()), "failed.eml");
}

TEST(BuildDsn, DelayedDsnMatchesGoldenFile) {
  expect_matches_golden(build_or_fail(delayed_input()), "delayed.eml");
}

TEST(BuildDsn, RetHdrsDsnMatchesGoldenFile) {
  DsnInput input = failed_input();
  input.envelope.ret = ReturnContent::headers;
  expect_matches_golden(build_or_fail(input), "ret_hdrs.eml");
}

TEST(BuildDsn, SizeLimitExceededDsnMatchesGoldenFile) {
  DsnInput input = failed_input();
  input.size_limit = 100;
  expect_matches_golden(build_or_fail(input), "size_limit.eml");
}

TEST(BuildDsn, Smtputf8DsnMatchesGoldenFile) {
  expect_matches_golden(build_or_fail(smtputf8_input()), "smtputf8.eml");
}

TEST(BuildDsn, SameInputGivesByteIdenticalOutput) {
  EXPECT_EQ(build_or_fail(failed_input()), build_or_fail(failed_input()));
}

// --- cut down to headers after a refusal -----------------------------------

TEST(HeadersOnlyDsn, IsTheDsnTheBuilderMakesWhenAskedForHeadersOnly) {
  for (DsnInput input : {failed_input(), delayed_input(), smtputf8_input()}) {
    const std::string whole = build_or_fail(input);
    input.original_is_headers_only = true;
    const std::string want = build_or_fail(input);
    const Result<std::string> got = headers_only_dsn(whole);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, want);
  }
}

TEST(HeadersOnlyDsn, RefusesADsnThatReturnsNoWholeMessage) {
  DsnInput input = failed_input();
  input.envelope.ret = ReturnContent::headers;
  EXPECT_FALSE(headers_only_dsn(build_or_fail(input)).ok()) << "it is headers only already";
  input.original.clear();
  EXPECT_FALSE(headers_only_dsn(build_or_fail(input)).ok()) << "it returns nothing";
  EXPECT_FALSE(headers_only_dsn("Subject: not a DSN\n\nbody\n").ok());
}

// --- structure read back ---------------------------------------------------

TEST(BuildDsn, FailedDsnIsAMultipartReportWithTheRequiredHeaders) {
  const ParsedDsn dsn = parse_dsn(build_or_fail(failed_input()));
  const auto& h = dsn.top.headers;
  EXPECT_EQ(h.at("from"), "Mail Delivery System <MAILER-DAEMON@mx.provider.example>");
  EXPECT_EQ(h.at("to"), "<alice@sender.example>");
  EXPECT_EQ(h.at("date"), "Sun, 29 Nov 2026 02:30:58 +0000");
  EXPECT_EQ(h.at("message-id"), "<20261129023058.4NxYz12AbC@mx.provider.example>");
  EXPECT_EQ(h.at("subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(h.at("auto-submitted"), "auto-replied");
  EXPECT_EQ(h.at("mime-version"), "1.0");
  EXPECT_TRUE(h.at("content-type").starts_with("multipart/report; report-type=delivery-status;"))
      << "got " << h.at("content-type");
  EXPECT_TRUE(dsn.has_closing_delimiter);
  EXPECT_EQ(content_types(dsn),
            (std::vector<std::string>{"text/plain; charset=us-ascii", "message/delivery-status",
                                      "message/rfc822"}));
}

TEST(BuildDsn, FailedDsnFieldsCarryEnvidOrcptAndExpiryStatus) {
  const ParsedDsn dsn = parse_dsn(build_or_fail(failed_input()));
  const std::vector<FieldBlock> blocks = status_blocks(dsn.parts.at(1).body);
  ASSERT_EQ(blocks.size(), 3u) << "want per-message block and two recipient blocks";
  EXPECT_EQ(blocks[0].find("reporting-mta")->second, "dns; mx.provider.example");
  EXPECT_EQ(blocks[0].find("original-envelope-id")->second, "QQ314159");
  EXPECT_TRUE(has_field(blocks[0], "Arrival-Date"));
  EXPECT_EQ(blocks[1].find("final-recipient")->second, "rfc822; bob@customer.example");
  EXPECT_EQ(blocks[1].find("original-recipient")->second, "rfc822; Bob@Customer.example");
  EXPECT_FALSE(has_field(blocks[2], "Original-Recipient")) << "carol gave no ORCPT";
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i].find("action")->second, "failed");
    EXPECT_EQ(blocks[i].find("status")->second, "5.4.7");
    EXPECT_NE(blocks[i].find("diagnostic-code")->second.find("delivery time expired"),
              std::string::npos);
    EXPECT_TRUE(has_field(blocks[i], "Last-Attempt-Date"));
    EXPECT_FALSE(has_field(blocks[i], "Will-Retry-Until")) << "only a delay DSN has it";
  }
}

TEST(BuildDsn, DelayedDsnSaysDelayedAndWhenItGivesUp) {
  const std::string text = build_or_fail(delayed_input());
  const ParsedDsn dsn = parse_dsn(text);
  EXPECT_EQ(dsn.top.headers.at("subject"), "Delayed Mail (still being retried)");
  const std::vector<FieldBlock> blocks = status_blocks(dsn.parts.at(1).body);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_FALSE(has_field(blocks[0], "Original-Envelope-Id")) << "no ENVID was given";
  EXPECT_EQ(blocks[1].find("action")->second, "delayed");
  EXPECT_EQ(blocks[1].find("status")->second, "4.4.7");
  EXPECT_EQ(blocks[1].find("will-retry-until")->second, "Sun, 29 Nov 2026 01:30:58 +0000");
  EXPECT_NE(blocks[1].find("diagnostic-code")->second.find("ETRN"), std::string::npos);
  EXPECT_NE(dsn.parts.at(0).body.find("will keep trying until Sun, 29 Nov 2026 01:30:58"),
            std::string::npos)
      << dsn.parts.at(0).body;
  EXPECT_NE(dsn.parts.at(0).body.find("waited 4 hours 2 minutes"), std::string::npos);
}

TEST(BuildDsn, TextPartNamesSiteWaitAndPolicy) {
  const ParsedDsn dsn = parse_dsn(build_or_fail(failed_input()));
  const std::string& words = dsn.parts.at(0).body;
  EXPECT_NE(words.find("customer.example never asked for its mail with"), std::string::npos)
      << words;
  EXPECT_NE(words.find("2 days 1 hour"), std::string::npos) << words;
  EXPECT_NE(words.find("domain_policy customer.example: expire after 2d"), std::string::npos)
      << words;
  EXPECT_NE(words.find("<carol@customer.example>"), std::string::npos) << words;
}

TEST(BuildDsn, RetHdrsReturnsOnlyTheHeaderSection) {
  DsnInput input = failed_input();
  input.envelope.ret = ReturnContent::headers;
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  ASSERT_EQ(dsn.parts.size(), 3u);
  EXPECT_EQ(dsn.parts[2].headers.at("content-type"), "text/rfc822-headers");
  EXPECT_NE(dsn.parts[2].body.find("Subject: Quarterly figures\n"), std::string::npos);
  EXPECT_EQ(dsn.parts[2].body.find("the figures are attached"), std::string::npos);
}

TEST(BuildDsn, OriginalOverTheSizeLimitIsReturnedAsHeadersOnly) {
  DsnInput input = failed_input();
  input.size_limit = input.original.size() - 1;
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_EQ(dsn.parts.at(2).headers.at("content-type"), "text/rfc822-headers");
  input.size_limit = input.original.size();
  const ParsedDsn whole = parse_dsn(build_or_fail(input));
  EXPECT_EQ(whole.parts.at(2).headers.at("content-type"), "message/rfc822")
      << "exactly at the limit fits";
}

TEST(BuildDsn, OriginalKnownOnlyAsHeadersIsReturnedAsHeaders) {
  DsnInput input = failed_input();
  input.original_is_headers_only = true;
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_EQ(dsn.parts.at(2).headers.at("content-type"), "text/rfc822-headers");
}

TEST(BuildDsn, OriginalLineEndsAreLfAndALoneDotIsKept) {
  const std::string text = build_or_fail(failed_input());
  EXPECT_EQ(text.find('\r'), std::string::npos) << "want LF-only output";
  EXPECT_NE(text.find("\n.\n-- \nAlice\n"), std::string::npos) << "original body must be unchanged";
}

TEST(BuildDsn, Smtputf8UsesTheGlobalTypesAndUtf8Addresses) {
  const std::string text = build_or_fail(smtputf8_input());
  const ParsedDsn dsn = parse_dsn(text);
  EXPECT_EQ(dsn.top.headers.at("to"), "<j\xC3\xB6ran@sender.example>");
  ASSERT_EQ(dsn.parts.size(), 3u);
  EXPECT_EQ(dsn.parts[1].headers.at("content-type"), "message/global-delivery-status");
  EXPECT_EQ(dsn.parts[2].headers.at("content-type"), "message/global");
  const std::vector<FieldBlock> blocks = status_blocks(dsn.parts[1].body);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1].find("final-recipient")->second, "utf-8; m\xC3\xBCller@kunde.example");
  EXPECT_EQ(blocks[1].find("original-recipient")->second, "utf-8; m\xC3\xBCller@kunde.example");
}

TEST(BuildDsn, Smtputf8HeadersOnlyUsesGlobalHeaders) {
  DsnInput input = smtputf8_input();
  input.envelope.ret = ReturnContent::headers;
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_EQ(dsn.parts.at(2).headers.at("content-type"), "message/global-headers");
}

TEST(BuildDsn, EightBitOriginalWithoutSmtputf8IsSentAs8bitUnchanged) {
  DsnInput input = failed_input();
  input.original = "Subject: caf\xE9 latin-1\n\nd\xE9j\xE0 vu\n";
  const std::string text = build_or_fail(input);
  const ParsedDsn dsn = parse_dsn(text);
  EXPECT_EQ(dsn.parts.at(2).headers.at("content-transfer-encoding"), "8bit");
  EXPECT_EQ(dsn.parts.at(2).body, input.original + "\n")
      << "the part ends before the delimiter's LF";
  EXPECT_EQ(dsn.top.headers.at("content-transfer-encoding"), "8bit");
}

TEST(BuildDsn, BoundaryAvoidsAStringThatOccursInTheOriginal) {
  DsnInput input = failed_input();
  const std::string first_choice = boundary_of(parse_dsn(build_or_fail(input)).top);
  input.original += "--" + first_choice + "\n";
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_NE(boundary_of(dsn.top), first_choice);
  EXPECT_EQ(dsn.parts.size(), 3u);
}

TEST(BuildDsn, EmptyOriginalLeavesOutTheThirdPart) {
  DsnInput input = failed_input();
  input.original.clear();
  EXPECT_EQ(parse_dsn(build_or_fail(input)).parts.size(), 2u);
}

TEST(BuildDsn, ReportingMtaWithATrailingDotIsWrittenWithoutIt) {
  DsnInput input = failed_input();
  input.reporting_mta = "mx.provider.example.";
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_EQ(dsn.top.headers.at("from"), "Mail Delivery System <MAILER-DAEMON@mx.provider.example>");
  EXPECT_EQ(status_blocks(dsn.parts.at(1).body).at(0).find("reporting-mta")->second,
            "dns; mx.provider.example");
}

// --- unusable input ---------------------------------------------------------

TEST(BuildDsn, NoRecipientsIsAnError) {
  DsnInput input = failed_input();
  input.recipients.clear();
  EXPECT_FALSE(build_dsn(input).ok());
}

TEST(BuildDsn, NullSenderIsAnError) {
  DsnInput input = failed_input();
  input.envelope.sender.clear();
  EXPECT_FALSE(build_dsn(input).ok()) << "RFC 5321: never a DSN to the null reverse-path";
}

TEST(BuildDsn, BadReportingMtaOrMessageIdIsAnError) {
  DsnInput input = failed_input();
  input.reporting_mta = "mx.example\nBcc: victim@example.org";
  EXPECT_FALSE(build_dsn(input).ok());
  input = failed_input();
  input.message_id = "id@mx>\nBcc: victim@example.org";
  EXPECT_FALSE(build_dsn(input).ok());
}

// --- hostile envelope data ---------------------------------------------------

TEST(BuildDsnHostile, SenderWithCrlfIsRefused) {
  DsnInput input = failed_input();
  input.envelope.sender = "alice@sender.example\r\nBcc: victim@example.org";
  const Result<std::string> dsn = build_dsn(input);
  ASSERT_FALSE(dsn.ok());
  EXPECT_NE(dsn.error().message.find("control"), std::string::npos) << dsn.error().message;
}

TEST(BuildDsnHostile, SenderWithNulOr8bitWithoutSmtputf8IsRefused) {
  DsnInput input = failed_input();
  input.envelope.sender = std::string("alice\0x@sender.example", 22);
  EXPECT_FALSE(build_dsn(input).ok());
  input.envelope.sender = "j\xC3\xB6ran@sender.example";
  EXPECT_FALSE(build_dsn(input).ok());
}

TEST(BuildDsnHostile, TenThousandCharacterSenderIsRefused) {
  DsnInput input = failed_input();
  input.envelope.sender = std::string(10000, 'a') + "@sender.example";
  EXPECT_FALSE(build_dsn(input).ok());
}

TEST(BuildDsnHostile, SenderThatIsNotADotAtomIsQuoted) {
  DsnInput input = failed_input();
  input.envelope.sender = "alice smith\"x@sender.example";
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_EQ(dsn.top.headers.at("to"), "<\"alice smith\\\"x\"@sender.example>");
}

struct HostileCase {
  const char* what;
  void (*spoil)(DsnInput&);
};

const HostileCase kHostileCases[] = {
    {"recipient", [](DsnInput& in) { in.recipients[0].address = "bob@x\r\nX-Injected: yes"; }},
    {"envid", [](DsnInput& in) { in.envelope.envid = "ID\r\nX-Injected: yes"; }},
    {"orcpt", [](DsnInput& in) { in.recipients[0].dsn.orcpt = "rfc822;bob\r\nX-Injected: yes"; }},
    {"orcpt type",
     [](DsnInput& in) { in.recipients[0].dsn.orcpt = "rfc822\nX-Injected: yes;bob@x"; }},
    {"domain", [](DsnInput& in) { in.recipients[0].domain = "x\nX-Injected: yes"; }},
    {"policy", [](DsnInput& in) { in.recipients[0].policy = "p\nX-Injected: yes"; }},
    {"queue id", [](DsnInput& in) { in.queue_id = "Q1\nX-Injected: yes"; }},
    {"lone CR", [](DsnInput& in) { in.recipients[0].address = "bob@x\rX-Injected: yes"; }},
    {"NUL",
     [](DsnInput& in) {
       in.recipients[0].address = std::string("bob\0@x", 6) + "\nX-Injected: yes";
     }},
    {"original subject",
     [](DsnInput& in) { in.original = "Subject: hi\r\nX-Injected: yes\r\n\r\nbody\r\n"; }},
};

TEST(BuildDsnHostile, InjectedLinesNeverBecomeDsnHeadersOrFields) {
  for (const HostileCase& hostile : kHostileCases) {
    DsnInput input = failed_input();
    hostile.spoil(input);
    const std::string text = build_or_fail(input);
    const ParsedDsn dsn = parse_dsn(text);
    EXPECT_FALSE(has_line_starting_with(top_header_section(text), "X-Injected"))
        << hostile.what << " injected a DSN header:\n"
        << text;
    ASSERT_EQ(dsn.parts.size(), 3u) << hostile.what;
    EXPECT_FALSE(has_line_starting_with(dsn.parts[1].body, "X-Injected"))
        << hostile.what << " injected a delivery-status field:\n"
        << dsn.parts[1].body;
    EXPECT_FALSE(has_line_starting_with(dsn.parts[0].body, "X-Injected"))
        << hostile.what << " broke a line of the text part:\n"
        << dsn.parts[0].body;
    EXPECT_EQ(text.find('\r'), std::string::npos) << hostile.what;
    EXPECT_EQ(std::string(text).find('\0'), std::string::npos) << hostile.what;
  }
}

TEST(BuildDsnHostile, ControlCharactersInARecipientAreXtextEncoded) {
  DsnInput input = failed_input();
  input.recipients[0].address = "bob@x\r\nX-Injected: yes";
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  const std::vector<FieldBlock> blocks = status_blocks(dsn.parts.at(1).body);
  EXPECT_EQ(blocks.at(1).find("final-recipient")->second, "rfc822; bob@x+0D+0AX-Injected:+20yes");
}

TEST(BuildDsnHostile, EightBitRecipientWithoutSmtputf8IsXtextEncoded) {
  DsnInput input = failed_input();
  input.recipients[0].address = "m\xC3\xBCller@kunde.example";
  const std::string text = build_or_fail(input);
  const std::vector<FieldBlock> blocks = status_blocks(parse_dsn(text).parts.at(1).body);
  EXPECT_EQ(blocks.at(1).find("final-recipient")->second, "rfc822; m+C3+BCller@kunde.example");
}

TEST(BuildDsnHostile, EnvidWithControlCharactersIsXtextEncoded) {
  DsnInput input = failed_input();
  input.envelope.envid = "ID\r\nX";
  const std::vector<FieldBlock> blocks =
      status_blocks(parse_dsn(build_or_fail(input)).parts.at(1).body);
  EXPECT_EQ(blocks.at(0).find("original-envelope-id")->second, "ID+0D+0AX");
}

TEST(BuildDsnHostile, OrcptWithABadAddressTypeIsLeftOut) {
  DsnInput input = failed_input();
  input.recipients[0].dsn.orcpt = "rfc822\nX-Injected: yes;bob@x";
  const std::vector<FieldBlock> blocks =
      status_blocks(parse_dsn(build_or_fail(input)).parts.at(1).body);
  EXPECT_FALSE(has_field(blocks.at(1), "Original-Recipient"));
}

TEST(BuildDsnHostile, QueueIdThatIsNotAlphanumericGetsNoHeader) {
  DsnInput input = failed_input();
  input.queue_id = "Q1\nX-Injected: yes";
  const ParsedDsn dsn = parse_dsn(build_or_fail(input));
  EXPECT_EQ(dsn.top.headers.count("x-etrn-sweeper-queue-id"), 0u);
}

TEST(BuildDsnHostile, TenThousandCharacterRecipientProducesNoLineOver998Octets) {
  DsnInput input = failed_input();
  input.recipients[0].address = std::string(10000, 'b') + "@customer.example";
  input.recipients[0].dsn.orcpt = "rfc822;" + input.recipients[0].address;
  input.recipients[0].domain = std::string(10000, 'd') + ".example";
  input.recipients[0].policy = std::string(10000, 'p');
  input.envelope.envid = std::string(10000, 'e');
  const std::string text = build_or_fail(input);
  EXPECT_LE(longest_line_octets(text), 998u);
  const ParsedDsn dsn = parse_dsn(text);
  const std::vector<FieldBlock> blocks = status_blocks(dsn.parts.at(1).body);
  ASSERT_EQ(blocks.size(), 3u) << "every recipient keeps its field block";
  EXPECT_FALSE(has_field(blocks[0], "Original-Envelope-Id")) << "an overlong ENVID is left out";
  const std::string& truncated = blocks[1].find("final-recipient")->second;
  EXPECT_EQ(truncated, "x-etrn-truncated; " + std::string(800, 'b'))
      << "a private address type, so no parser takes the fragment for an rfc822 address";
  EXPECT_FALSE(has_field(blocks[1], "Original-Recipient")) << "an overlong ORCPT is left out";
  EXPECT_EQ(blocks[2].find("final-recipient")->second, "rfc822; carol@customer.example");
  EXPECT_EQ(dsn.parts[0].headers.at("content-transfer-encoding"), "quoted-printable")
      << "the text part names the long address and must stay within line limits";
}

TEST(BuildDsnHostile, OnlyRecipientTooLongStillGivesADsn) {
  DsnInput input = failed_input();
  input.recipients.resize(1);
  input.recipients[0].address = std::string(10000, '\n') + "@customer.example";
  const std::string text = build_or_fail(input);
  EXPECT_LE(longest_line_octets(text), 998u);
  const std::vector<FieldBlock> blocks = status_blocks(parse_dsn(text).parts.at(1).body);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_TRUE(blocks[1].find("final-recipient")->second.starts_with("x-etrn-truncated; +0A+0A"));
}

TEST(BuildDsn, RecipientsWithoutAnyAddressIsAnError) {
  DsnInput input = failed_input();
  input.recipients.resize(1);
  input.recipients[0].address.clear();
  EXPECT_FALSE(build_dsn(input).ok());
}

// Every line of a header section is a known header or a folded continuation.
void expect_only_known_names(const std::string& section, const std::set<std::string>& known,
                             const std::string& where) {
  std::size_t start = 0;
  while (start < section.size()) {
    std::size_t end = section.find('\n', start);
    if (end == std::string::npos) end = section.size();
    const std::string line = section.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    const std::string name = lower(line.substr(0, line.find(':')));
    EXPECT_EQ(known.count(name), 1u) << where << ": unexpected line \"" << line << "\"";
  }
}

std::string random_hostile_string(std::mt19937& random) {
  static const std::string kAlphabet =
      std::string("ab@.;:<>()\"\\ +=\r\n\t\x7f\x80\xC3\xBC\xFFX-Injected", 33) +
      std::string(1, '\0');
  std::uniform_int_distribution<std::size_t> length(0, 40);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string out;
  for (std::size_t n = length(random); n > 0; --n) out += kAlphabet[pick(random)];
  return out;
}

TEST(BuildDsnHostile, RandomHostileEnvelopesNeverAddHeadersFieldsOrLongLines) {
  const std::set<std::string> top_names = {"from",
                                           "to",
                                           "date",
                                           "message-id",
                                           "subject",
                                           "auto-submitted",
                                           "mime-version",
                                           "content-type",
                                           "content-transfer-encoding",
                                           "x-etrn-sweeper-queue-id"};
  const std::set<std::string> field_names = {
      "reporting-mta",   "original-envelope-id", "arrival-date",
      "final-recipient", "original-recipient",   "action",
      "status",          "diagnostic-code",      "last-attempt-date",
      "will-retry-until"};
  std::mt19937 random(20261129);  // fixed seed: the same cases on every run
  int built = 0;
  for (int round = 0; round < 500; ++round) {
    DsnInput input = round % 2 == 0 ? failed_input() : delayed_input();
    input.envelope.smtputf8 = round % 3 == 0;
    input.envelope.envid = random_hostile_string(random);
    input.queue_id = random_hostile_string(random);
    input.recipients[0].address = random_hostile_string(random);
    input.recipients[0].dsn.orcpt = random_hostile_string(random);
    input.recipients[0].domain = random_hostile_string(random);
    input.recipients[0].policy = random_hostile_string(random);
    if (round % 5 == 0)
      input.envelope.sender = "s" + random_hostile_string(random) + "@sender.example";
    const Result<std::string> dsn = build_dsn(input);
    if (!dsn.ok()) continue;
    ++built;
    const std::string where = "round " + std::to_string(round);
    expect_only_known_names(top_header_section(*dsn), top_names, where);
    const ParsedDsn parsed = parse_dsn(*dsn);
    ASSERT_EQ(parsed.parts.size(), 3u) << where << "\n" << *dsn;
    expect_only_known_names(parsed.parts[1].body, field_names, where);
    EXPECT_LE(longest_line_octets(*dsn), 998u) << where;
    EXPECT_EQ(dsn->find('\r'), std::string::npos) << where;
  }
  EXPECT_GT(built, 400) << "most random envelopes should still give a DSN";
}

}  // namespace
}  // namespace etrn
