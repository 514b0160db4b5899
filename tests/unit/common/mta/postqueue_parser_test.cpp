// Tests for postqueue_parser on real `postqueue -j` output (Postfix 3.7).
#include "common/mta/postqueue_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace etrn {
namespace {

std::vector<std::string> fixture_lines(const std::string& name) {
  std::ifstream in(std::string(ETRN_TEST_DATA_DIR) + "/postfix/" + name);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

QueuedMessage find(const std::vector<QueuedMessage>& all, const std::string& id) {
  for (const auto& m : all) {
    if (m.queue_id == id) return m;
  }
  ADD_FAILURE() << "no message " << id;
  return {};
}

std::vector<QueuedMessage> parse_fixture(const std::string& name) {
  std::vector<QueuedMessage> all;
  for (const auto& line : fixture_lines(name)) {
    auto m = parse_postqueue_json_line(line);
    EXPECT_TRUE(m.ok()) << line << ": " << (m.ok() ? "" : m.error().message);
    if (m) all.push_back(*m);
  }
  return all;
}

TEST(PostqueueParser, ReadsEveryLineOfARealListing) {
  const auto all = parse_fixture("postqueue-j.txt");
  EXPECT_EQ(all.size(), 10u);
}

TEST(PostqueueParser, ReadsAllMembersOfAMessageWithThreeRecipients) {
  const auto m = find(parse_fixture("postqueue-j.txt"), "2A9FCA7225E");
  EXPECT_EQ(m.queue_name, "deferred");
  EXPECT_EQ(m.arrival_time, 1795919630);
  EXPECT_EQ(m.size, 355);
  EXPECT_FALSE(m.forced_expire);
  EXPECT_EQ(m.sender, "alice@sender.example");
  ASSERT_EQ(m.recipients.size(), 3u);
  EXPECT_EQ(m.recipients[2].address, "dave@customer.example");
}

TEST(PostqueueParser, MapsMailerDaemonBackToTheNullSender) {
  const auto m = find(parse_fixture("postqueue-j.txt"), "2BB6AA7225F");
  EXPECT_EQ(m.sender, "") << "postqueue shows MAIL FROM:<> as MAILER-DAEMON";
}

TEST(PostqueueParser, KeepsUtf8AddressesAsTheyAre) {
  const auto m = find(parse_fixture("postqueue-j.txt"), "2C751A72260");
  EXPECT_EQ(m.sender, "jos\xC3\xA9@sender.example");
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].address, "m\xC3\xBCller@customer.example");
}

TEST(PostqueueParser, SeesTheHoldQueue) {
  const auto m = find(parse_fixture("postqueue-j.txt"), "CC5E5A7260C");
  EXPECT_EQ(m.queue_name, "hold");
  EXPECT_TRUE(m.held);
  EXPECT_FALSE(find(parse_fixture("postqueue-j.txt"), "2C751A72260").held)
      << "a deferred message is not held";
}

TEST(PostqueueParser, ReadsLongQueueIds) {
  const auto all = parse_fixture("postqueue-j-long-id.txt");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].queue_id, "4jcWcd55ffz1bY07");
}

TEST(PostqueueParser, IgnoresUnknownMembersAndAMissingDelayReason) {
  auto m = parse_postqueue_json_line(
      R"({"queue_name":"active","queue_id":"ABCDEF12","arrival_time":5,"message_size":9,)"
      R"("future":{"x":1},"sender":"a@b","recipients":[{"address":"c@d"}]})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->recipients.at(0).address, "c@d");
  EXPECT_FALSE(m->forced_expire) << "forced_expire is absent before Postfix 3.5";
}

TEST(PostqueueParser, OnlyDeferredAndHeldMailIsStillTheRestIsBusy) {
  for (const char* queue : {"deferred", "hold", "active", "incoming", "maildrop", "corrupt"}) {
    auto m = parse_postqueue_json_line(std::string(R"({"queue_name":")") + queue +
                                       R"(","queue_id":"ABCDEF12","arrival_time":5,)"
                                       R"("sender":"a@b","recipients":[]})");
    ASSERT_TRUE(m.ok()) << m.error().message;
    const bool still = std::string(queue) == "deferred" || std::string(queue) == "hold";
    EXPECT_EQ(m->busy, !still) << queue << ": a delivery may be under way";
  }
}

TEST(PostqueueParser, ReadsForcedExpire) {
  auto m = parse_postqueue_json_line(
      R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5,"message_size":9,)"
      R"("forced_expire":true,"sender":"a@b","recipients":[]})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->forced_expire);
}

TEST(PostqueueParser, ReadsAMemberGivenTwiceAsItsLastValueAndSkipsNestedUnknowns) {
  // As a document read gives them (the reader streams; the fuzz target
  // postqueue_json compares it with a document reader on any input).
  auto m = parse_postqueue_json_line(
      R"({"queue_name":"active","queue_name":"deferred","queue_id":"ABCDEF12",)"
      R"("arrival_time":"x","arrival_time":7,"sender":"a@b","forced_expire":true,)"
      R"("forced_expire":1,"extra":[{"recipients":[{"address":"no@no"}]},[[]]],)"
      R"("recipients":[{"address":"old@d"}],)"
      R"("recipients":[{"address":"x@d","address":"c@d","deep":{"address":"no@no"},)"
      R"("delay_reason":"r"}]})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->queue_name, "deferred");
  EXPECT_EQ(m->arrival_time, 7);
  EXPECT_FALSE(m->forced_expire) << "the last forced_expire is not a boolean";
  ASSERT_EQ(m->recipients.size(), 1u);
  EXPECT_EQ(m->recipients[0].address, "c@d");
}

TEST(PostqueueParser, RejectsMalformedLines) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not valid JSON"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5)", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"queue_name":"deferred","arrival_time":5,"sender":"","recipients":[]})", "queue_id"},
      {R"({"queue_name":"deferred","queue_id":"ALL","arrival_time":5,"sender":"","recipients":[]})",
       "not a Postfix queue ID"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":"5","sender":"","recipients":[]})",
       "arrival_time"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5,"sender":"","recipients":{}})",
       "recipients"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5,"sender":"","recipients":[{}]})",
       "address"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5,"sender":""})",
       "recipients"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5,"sender":"",)"
       R"("recipients":[{"address":"a@b"},7]})",
       "a recipient is not an object"},
      {R"({"queue_name":{"x":1},"queue_id":"ABCDEF12","arrival_time":5,"sender":"","recipients":[]})",
       "queue_name"},
      {R"({"queue_name":"deferred","queue_id":"ABCDEF12","arrival_time":5,"sender":"",)"
       R"("recipients":[]} trailing)",
       "not valid JSON"},
      {"\"a string\"", "not a JSON object"},
      {"{\"queue_name\":\"d\",\"queue_id\":\"ABCDEF12\",\"arrival_time\":5,\"sender\":\"\xff\","
       "\"recipients\":[]}",
       "not valid JSON"},
  };
  for (const auto& [line, want] : cases) {
    auto m = parse_postqueue_json_line(line);
    ASSERT_FALSE(m.ok()) << line;
    EXPECT_NE(m.error().message.find(want), std::string::npos)
        << "got \"" << m.error().message << "\", want it to mention \"" << want << "\"";
  }
}

}  // namespace
}  // namespace etrn

namespace etrn {
namespace {

TEST(PostqueueLineQueueId, FindsTheIdWithoutParsingAndOnlyWhereItIsPlain) {
  EXPECT_EQ(
      postqueue_line_queue_id(
          R"({"queue_name": "deferred", "queue_id": "3F1C2A7225E", "arrival_time": 1, "sender": "a@b"})"),
      std::optional<std::string_view>("3F1C2A7225E"));
  EXPECT_EQ(postqueue_line_queue_id(
                R"({"sender": "x\"queue_id\": \"FAKE1\"", "queue_id": "3F1C2A7225E"})"),
            std::optional<std::string_view>("3F1C2A7225E"))
      << "a string value cannot fake the member: its quotes are escaped";
  EXPECT_FALSE(postqueue_line_queue_id(R"({"queue_id":"3F1C2A7225E"})"))
      << "not as Postfix prints it";
  EXPECT_FALSE(postqueue_line_queue_id(R"({"queue_id": "../x"})")) << "not a queue ID";
  EXPECT_FALSE(postqueue_line_queue_id("garbage"));
}

}  // namespace
}  // namespace etrn
