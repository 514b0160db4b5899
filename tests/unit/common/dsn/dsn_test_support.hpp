// dsn_test_support.hpp - shared by the DSN tests: sample inputs, a tiny
// MIME parser to read a built DSN back, and golden-file comparison
// (ETRN_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/dsn/dsn.hpp"

namespace etrn::dsn_test {

// Sun, 29 Nov 2026 02:30:58 +0000
inline constexpr EpochSeconds kNow = 1795919458;
inline constexpr EpochSeconds kArrival = kNow - 2 * 86400 - 3600;  // waited 2 days 1 hour

inline std::string sample_original() {
  return "Received: from client.sender.example (client.sender.example [192.0.2.10])\r\n"
         "\tby mx.provider.example (Postfix) with ESMTP id 4NxYz12AbC\r\n"
         "From: Alice <alice@sender.example>\r\n"
         "To: bob@customer.example, carol@customer.example\r\n"
         "Subject: Quarterly figures\r\n"
         "Message-ID: <figures-2026@sender.example>\r\n"
         "\r\n"
         "Hello Bob, hello Carol,\r\n"
         "\r\n"
         "the figures are attached.\r\n"
         ".\r\n"
         "-- \r\n"
         "Alice\r\n";
}

inline DsnInput failed_input() {
  DsnInput input;
  input.kind = DsnKind::failed;
  input.reporting_mta = "mx.provider.example";
  input.message_id = "20261129023058.4NxYz12AbC@mx.provider.example";
  input.envelope.sender = "alice@sender.example";
  input.queue_id = "4NxYz12AbC";
  input.envelope.envid = "QQ314159";
  input.arrival_time = kArrival;
  input.now = kNow;
  input.recipients = {
      {"bob@customer.example",
       {{}, "rfc822;Bob@Customer.example"},
       "customer.example",
       kNow,
       "domain_policy customer.example: expire after 2d"},
      {"carol@customer.example",
       {},
       "customer.example",
       kNow,
       "domain_policy customer.example: expire after 2d"},
  };
  input.original = sample_original();
  return input;
}

inline DsnInput delayed_input() {
  DsnInput input = failed_input();
  input.kind = DsnKind::delayed;
  input.envelope.envid.clear();
  input.now = kArrival + 4 * 3600 + 120;
  input.recipients = {{"bob@customer.example",
                       {},
                       "customer.example",
                       kArrival + 2 * 86400,
                       "expire_after = 48h, warn_after = 4h"}};
  return input;
}

inline DsnInput smtputf8_input() {
  DsnInput input = failed_input();
  input.envelope.smtputf8 = true;
  input.envelope.sender = "j\xC3\xB6ran@sender.example";
  input.recipients = {{"m\xC3\xBCller@kunde.example",
                       {{}, "utf-8;m\xC3\xBCller@kunde.example"},
                       "kunde.example",
                       kNow,
                       "expire_after = 48h"}};
  input.original =
      "From: J\xC3\xB6ran <j\xC3\xB6ran@sender.example>\n"
      "To: m\xC3\xBCller@kunde.example\n"
      "Subject: Gr\xC3\xBC\xC3\x9F"
      "e\n"
      "\n"
      "Hall\xC3\xB6!\n";
  return input;
}

// --- a tiny MIME reader, enough to check our own output ----------------

struct ParsedPart {
  std::map<std::string, std::string> headers;  // lower-case name -> unfolded value
  std::string body;
};

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline ParsedPart parse_entity(const std::string& text) {
  ParsedPart part;
  const std::size_t blank = text.find("\n\n");
  const std::string head = text.substr(0, blank == std::string::npos ? text.size() : blank + 1);
  part.body = blank == std::string::npos ? "" : text.substr(blank + 2);
  std::istringstream lines(head);
  std::string line;
  std::string name;
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      part.headers[name] += " " + line.substr(line.find_first_not_of(" \t"));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    name = lower(line.substr(0, colon));
    const std::size_t start = line.find_first_not_of(' ', colon + 1);
    part.headers[name] = start == std::string::npos ? "" : line.substr(start);
  }
  return part;
}

inline std::string boundary_of(const ParsedPart& message) {
  const std::string& type = message.headers.at("content-type");
  const std::size_t start = type.find("boundary=\"");
  if (start == std::string::npos) return "";
  const std::size_t end = type.find('"', start + 10);
  return type.substr(start + 10, end - start - 10);
}

struct ParsedDsn {
  ParsedPart top;
  std::vector<ParsedPart> parts;
  bool has_closing_delimiter = false;
};

inline ParsedDsn parse_dsn(const std::string& text) {
  ParsedDsn dsn;
  dsn.top = parse_entity(text);
  const std::string delimiter = "\n--" + boundary_of(dsn.top);
  const std::string body = "\n" + dsn.top.body;
  std::size_t position = body.find(delimiter);
  while (position != std::string::npos) {
    const std::size_t line_end = body.find('\n', position + 1);
    if (body.compare(position + delimiter.size(), 2, "--") == 0) {
      dsn.has_closing_delimiter = true;
      break;
    }
    const std::size_t next = body.find(delimiter, line_end);
    const std::size_t content_end = next == std::string::npos ? body.size() : next + 1;
    dsn.parts.push_back(parse_entity(body.substr(line_end + 1, content_end - line_end - 1)));
    position = next;
  }
  return dsn;
}

using FieldBlock = std::multimap<std::string, std::string>;  // lower-case name -> value

// The blocks of a delivery-status body: per-message first, then one per recipient.
inline std::vector<FieldBlock> status_blocks(const std::string& body) {
  std::vector<FieldBlock> blocks;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find("\n\n", start);
    if (end == std::string::npos) end = body.size();
    const ParsedPart block = parse_entity(body.substr(start, end - start + 1) + "\n");
    if (!block.headers.empty()) blocks.emplace_back(block.headers.begin(), block.headers.end());
    start = end + 2;
  }
  return blocks;
}

inline bool has_field(const FieldBlock& block, const std::string& name) {
  return block.count(lower(name)) > 0;
}

// --- golden files ------------------------------------------------------

inline std::string golden_path(const std::string& name) {
  return std::string(ETRN_TEST_DATA_DIR) + "/dsn/" + name;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

inline bool updating_golden_files() {
  const char* value = std::getenv("ETRN_UPDATE_GOLDEN");
  return value != nullptr && std::string(value) == "1";
}

inline void expect_matches_golden(const std::string& got, const std::string& name) {
  const std::string path = golden_path(name);
  if (updating_golden_files()) {
    std::ofstream(path, std::ios::binary) << got;
    return;
  }
  const std::string want = read_file(path);
  ASSERT_FALSE(want.empty()) << "golden file " << path
                             << " is missing; run with ETRN_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(got, want) << "DSN differs from golden file " << path
                       << " (ETRN_UPDATE_GOLDEN=1 rewrites it after review)";
}

inline std::size_t longest_line_octets(const std::string& text) {
  std::size_t longest = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    longest = std::max(longest, end - start);
    start = end + 1;
  }
  return longest;
}

}  // namespace etrn::dsn_test
