// config.hpp - the configuration both programs read (interface.md).
//
// One file of `key = value` lines with `#` comments and the sections
// [milter] and [sweeper]; command-line options override it. Every error
// names the file, the line and the key. Unknown keys are errors.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/util/result.hpp"

namespace etrn {

using Seconds = std::chrono::seconds;

enum class MtaKind { postfix, sendmail };
enum class OnError { accept, tempfail };

// `domain_policy = customer.example expire_after=72h warn_after=12h`
struct DomainPolicy {
  std::string pattern;  // as etrn_domains: "name" or ".name" (subdomains)
  std::optional<Seconds> expire_after;
  std::optional<Seconds> warn_after;
};

inline constexpr const char* kDefaultConfigPath = "/etc/etrn-sweeper/etrn-sweeper.conf";
inline constexpr const char* kDefaultStateDirectory = "/var/lib/etrn-sweeper";

struct Config {
  // Top level (both programs).
  std::string database = "/var/lib/etrn-sweeper/etrn.db";  // an SQLite path or a PostgreSQL URI
  std::string database_password_file;  // PostgreSQL: the password's file (store_target.hpp)
  std::string instance;  // the MTA host the rows belong to; empty: the MTA's own (myhostname, $j)
  std::vector<std::string> etrn_domains;     // normalized: lower case, no trailing dot
  std::vector<std::string> etrn_transports;  // {rcpt_mailer} values
  Seconds expire_after{48 * 3600};
  Seconds expire_after_urgent{24 * 3600};
  Seconds expire_after_non_urgent{72 * 3600};
  Seconds warn_after{4 * 3600};               // 0: no delay warnings
  std::vector<DomainPolicy> domain_policies;  // first match wins
  std::string log_level = "info";             // trace debug info warn error

  // [milter]
  std::string milter_socket = "unix:/run/etrn-sweeper/milter.sock";
  OnError on_error = OnError::accept;
  std::string milter_user = "etrn-sweeper";
  int milter_socket_mode = 0660;    // a unix socket's permissions
  std::string milter_socket_group;  // "": the directory's if set-group-ID, else the user's
  // A record is committed within this time of end of message (group commit).
  std::chrono::milliseconds milter_commit_interval{100};
  // How long records may stay uncommitted past their commit_interval (the
  // database locked, full, read-only or gone) before end of message stops
  // queueing new ones and applies on_error.
  Seconds milter_record_timeout{5};
  // PostgreSQL: the milter's own role and its password's file, when it
  // connects as another role than the sweeper; "": as `database` says.
  std::string milter_database_user;
  std::string milter_database_password_file;

  // [sweeper]
  MtaKind mta = MtaKind::postfix;
  std::string postfix_config_directory = "/etc/postfix";
  std::string postfix_command_directory = "/usr/sbin";
  std::string sendmail_queue_directory = "/var/spool/mqueue";
  std::string sendmail_program = "/usr/sbin/sendmail";
  std::string sendmail_config_file;        // -C for Sendmail's own commands; empty: its default
  std::string reporting_mta;               // a host name; empty: the MTA's own (myhostname, $j)
  std::string postmaster = "postmaster";   // who is told when a DSN cannot be delivered
  std::int64_t bounce_size_limit = 50000;  // bytes of the original returned in full in a DSN
  std::string metrics_file;                // Prometheus textfile written after each sweep; "": none
  // Closed history last changed longer ago than this is pruned; 0: kept forever.
  Seconds history_retention{400 * 24 * 3600};
  // The sweeper's own files (the outbox's sent logs); "": the SQLite
  // database's directory, or kDefaultStateDirectory with PostgreSQL.
  std::string state_directory;

  // Where the file came from, for messages ("" = built-in defaults only).
  std::string source_path;
};

// One problem found while reading a configuration: "FILE:LINE: key: what".
struct ConfigError {
  std::string file;
  int line = 0;  // 0: not tied to a line (e.g. the file cannot be read)
  std::string key;
  std::string message;
  std::string to_string() const;
};

struct ConfigParse {
  Config config;
  std::vector<ConfigError> errors;  // empty: the configuration is good
  bool ok() const { return errors.empty(); }
};

// Parses configuration text. `file` is only used in error messages.
ConfigParse parse_config(std::string_view text, const std::string& file);

// Reads and parses a file. A missing or unreadable file is an error.
ConfigParse load_config_file(const std::string& path);

// Applies one `key = value` override from the command line (e.g. key
// "database", or "milter.socket"); errors are reported as from "command line".
void apply_config_override(ConfigParse& parse, const std::string& key, const std::string& value);

// The longest duration a configuration may give: no mail waits ten years,
// and an arrival time plus any duration up to this stays far from overflow.
inline constexpr Seconds kLongestDuration{3650LL * 24 * 3600};

// Parses "48h", "2d", "90m", "30s", "1w", "0" (a bare number is seconds),
// at most kLongestDuration.
Result<Seconds> parse_duration(std::string_view text);
// The shortest exact rendering: 172800s -> "2d", 5400s -> "90m".
std::string format_duration(Seconds s);

// The longest commit_interval: a group commit that waits longer than this
// would only widen what a crash loses.
inline constexpr std::chrono::milliseconds kLongestCommitInterval{10000};

// A short interval: "100ms", or a duration as above ("1s"); 0 is allowed;
// at most kLongestCommitInterval.
Result<std::chrono::milliseconds> parse_interval(std::string_view text);
// "100ms", "2s", "0".
std::string format_interval(std::chrono::milliseconds interval);

}  // namespace etrn
