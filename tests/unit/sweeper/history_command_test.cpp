// history_command_test.cpp - how a message's story is printed.
#include "sweeper/history_command.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace etrn {
namespace {

constexpr EpochSeconds kArrival = 1796115600;  // 2026-12-01T09:00:00Z

StoryMessage message(std::int64_t id, std::string queue_id, std::string source) {
  StoryMessage m;
  m.id = id;
  m.queue_id = std::move(queue_id);
  m.arrival_time = kArrival;
  m.recorded_at = kArrival;
  m.priority = "normal";
  m.source = std::move(source);
  return m;
}

MessageStory split_story() {
  StoryMessage original = message(1, "4ABC1D", "milter");
  original.done_at = kArrival + 100;
  original.message_id = "<1@x>";
  original.subject = "hi\x1b[2J";
  original.recipients.push_back({"bob@customer.example", "expired", kArrival, kArrival + 100});
  StoryMessage copy = message(2, "5DEF2E", "reinjected");
  copy.recorded_at = kArrival + 100;
  copy.recipients.push_back({"carol@customer.example", "queued", kArrival + 3600, kArrival});
  MessageStory story;
  story.messages = {original, copy};
  story.events = {
      {1, kArrival, "4ABC1D", "bob@customer.example", "recorded", "", "mx1.provider.example"},
      {2, kArrival + 100, "4ABC1D", "carol@customer.example", "reinjected", "as 5DEF2E",
       "mx1.provider.example"}};
  for (StoryMessage& m : story.messages) m.instance = "mx1.provider.example";
  return story;
}

TEST(History, ReadableUtcSaysUtc) {
  EXPECT_EQ(readable_utc(kArrival), "2026-12-01 09:00:00 UTC");
}

TEST(History, ShowsEveryMessageRowItsRecipientsAndTheEventsInOrder) {
  std::ostringstream out;
  print_history(out, split_story());
  const std::string text = out.str();
  const auto original = text.find("message 4ABC1D (milter)");
  const auto copy = text.find("message 5DEF2E (reinjected)");
  const auto events = text.find("events:");
  ASSERT_NE(original, std::string::npos) << text;
  ASSERT_NE(copy, std::string::npos) << text;
  EXPECT_LT(original, copy);
  EXPECT_LT(copy, events);
  EXPECT_NE(text.find("sender:     <>"), std::string::npos) << text;
  EXPECT_NE(text.find("bob@customer.example  expired  since 2026-12-01 09:01:40 UTC"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("2026-12-01 09:01:40 UTC  4ABC1D  carol@customer.example  reinjected  as 5DEF2E"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "the subject's escape is made printable";
  EXPECT_NE(text.find("hi\\x1B[2J"), std::string::npos) << text;
}

TEST(History, NamesEachMessagesHostAndEachEventsWhenTheStoryIsOnSeveral) {
  MessageStory story = split_story();
  std::ostringstream one_host;
  print_history(one_host, story);
  EXPECT_NE(one_host.str().find("  host:       mx1.provider.example\n"), std::string::npos)
      << one_host.str();
  EXPECT_NE(one_host.str().find("UTC  4ABC1D  bob@customer.example    recorded"), std::string::npos)
      << "one host: the events need not say which " << one_host.str();

  // The same queue ID on a second host (Postfix's short IDs are inode numbers).
  StoryMessage other = message(3, "4ABC1D", "milter");
  other.instance = "mx2.provider.example";
  story.messages.push_back(other);
  story.events.push_back(
      {3, kArrival + 200, "4ABC1D", "dave@customer.example", "recorded", "", other.instance});
  std::ostringstream two_hosts;
  print_history(two_hosts, story);
  const std::string text = two_hosts.str();
  EXPECT_NE(text.find("UTC  mx1.provider.example  4ABC1D  bob@customer.example    recorded"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("UTC  mx2.provider.example  4ABC1D  dave@customer.example   recorded"),
            std::string::npos)
      << text;
}

TEST(History, JsonHasOneLinePerMessageRowThenOnePerEvent) {
  std::ostringstream out;
  print_history_json(out, split_story());
  std::istringstream text(out.str());
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_EQ(lines[0].at("type"), "message");
  EXPECT_EQ(lines[0].at("queue_id"), "4ABC1D");
  EXPECT_EQ(lines[0].at("instance"), "mx1.provider.example");
  EXPECT_EQ(lines[2].at("instance"), "mx1.provider.example");
  EXPECT_EQ(lines[0].at("done_at"), kArrival + 100);
  EXPECT_EQ(lines[0].at("subject"), "hi\x1b[2J") << "JSON escapes it itself";
  EXPECT_EQ(lines[0].at("recipients").at(0).at("state"), "expired");
  EXPECT_TRUE(lines[1].at("done_at").is_null());
  EXPECT_EQ(lines[3].at("type"), "event");
  EXPECT_EQ(lines[3].at("kind"), "reinjected");
  EXPECT_EQ(lines[3].at("detail"), "as 5DEF2E");
  EXPECT_EQ(lines[3].at("at"), kArrival + 100);
}

}  // namespace
}  // namespace etrn
