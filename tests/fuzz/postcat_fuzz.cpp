// postcat_fuzz.cpp - postcat's output: the envelope parser
// (parse_postcat_envelope, `postcat -e`) and the splitter of many messages'
// contents (PostcatContentSplitter, `postcat -e -h -b -q ID...`). Any
// sender can put any line, "*** ***" among them, in a message's content.
//
// The input is read three ways:
// 1. as `postcat -e` output: an envelope or an Error, never a crash;
// 2. as `postcat -e -h -b` output, split for the IDs its own ENVELOPE
//    RECORDS lines name: a split gives one content per ID, each a piece of
//    the input, none holding a line that looks like a frame marker, and
//    framing those contents again splits to the same contents;
// 3. as the content of one message, framed the way postcat frames it: the
//    split gives back exactly that content, or refuses when (and only
//    when) the content has a line that looks like a marker. A refused split
//    is safe (the sweeper reads the messages one by one); a wrong one would
//    put one message's text in another's DSN.
#include <cstdint>
#include <string>
#include <vector>

#include "common/mta/postcat_parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using etrn::fuzz::lines_of;

constexpr std::size_t kMostIds = 8;

// "*** ENVELOPE RECORDS deferred/2/2A9FCA7225E ***" -> "2A9FCA7225E".
std::vector<std::string> ids_named_in(std::string_view output) {
  constexpr std::string_view open = "*** ENVELOPE RECORDS ";
  constexpr std::string_view close = " ***";
  std::vector<std::string> ids;
  for (std::string_view line : lines_of(output)) {
    if (!line.starts_with(open) || !line.ends_with(close) || ids.size() == kMostIds) continue;
    line.remove_prefix(open.size());
    if (line.size() < close.size()) continue;
    line.remove_suffix(close.size());
    const auto slash = line.rfind('/');
    if (slash != std::string_view::npos) ids.emplace_back(line.substr(slash + 1));
  }
  return ids;
}

std::string framed(const std::vector<std::string>& ids, const std::vector<std::string>& contents) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string path = "deferred/A/" + ids[i] + " ***\n";
    out += "*** ENVELOPE RECORDS " + path + "sender: a@b.example\n";
    out += "*** MESSAGE CONTENTS " + path + contents[i];
    out += "*** HEADER EXTRACTED " + path + "*** MESSAGE FILE END " + path;
  }
  return out;
}

etrn::Result<std::vector<std::string>> split(const std::vector<std::string>& ids,
                                             std::string_view output) {
  etrn::PostcatContentSplitter splitter(ids);
  for (const std::string_view line : lines_of(output)) splitter.add_line(line);
  auto messages = splitter.finish();
  if (!messages) return messages.error();
  std::vector<std::string> contents;
  contents.reserve(messages->size());
  for (etrn::PostcatMessage& m : *messages) contents.push_back(std::move(m.content));
  return contents;
}

bool has_marker_line(std::string_view text) {
  for (const std::string_view line : lines_of(text)) {
    if (etrn::looks_like_postcat_marker(line)) return true;
  }
  return false;
}

void split_as_output(std::string_view input) {
  const std::vector<std::string> ids = ids_named_in(input);
  const auto contents = split(ids, input);
  if (!contents) return;
  FUZZ_CHECK(contents->size() == ids.size(), "one content per queue ID");
  for (const std::string& content : *contents) {
    FUZZ_CHECK(content.empty() || content.back() == '\n', "a content ends with LF");
    FUZZ_CHECK(input.find(content) != std::string_view::npos, "a content is a piece of the output");
    FUZZ_CHECK(!has_marker_line(content), "no content holds a marker-like line");
  }
  const auto again = split(ids, framed(ids, *contents));
  FUZZ_CHECK(again && *again == *contents, "framing the contents again splits to the same");
}

void split_as_content(std::string_view input) {
  // The splitter gets lines without their LF: content is a list of lines.
  std::string content;
  for (const std::string_view line : lines_of(input)) content.append(line).push_back('\n');
  const std::vector<std::string> ids = {"2A9FCA7225E", "3B0ADB8336F"};
  const std::vector<std::string> contents = {content, "Subject: second\n\nbody\n"};
  const auto got = split(ids, framed(ids, contents));
  if (has_marker_line(content)) {
    FUZZ_CHECK(!got, "a content with a marker-like line is refused, not split");
  } else {
    FUZZ_CHECK(got && *got == contents, "a content without marker-like lines splits exactly");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);
  const auto envelope = etrn::parse_postcat_envelope(input);
  if (envelope) {
    for (const auto& recipient : envelope->recipients) {
      FUZZ_CHECK(input.find(recipient.address) != std::string_view::npos,
                 "a recipient comes from the output");
    }
  }
  split_as_output(input);
  split_as_content(input);
  return 0;
}
