// config_keys.cpp - the table of every configuration key (see config_keys.hpp).
//
// To add a key: add a field to Config with its default, and one entry here
// whose default_text renders that default (a unit test checks they agree).
#include "common/config/config_keys.hpp"

#include <utility>

#include "common/config/config_values.hpp"
#include "common/util/strings.hpp"

namespace etrn {

namespace {

using Values = std::vector<std::string>;

// Stores a parsed value in a field, or returns the parse error.
template <typename T, typename U>
Status store(Result<T> parsed, U& field) {
  if (!parsed) return parsed.error();
  field = std::move(*parsed);
  return ok_status();
}

// A host name, or empty: the MTA's own, asked for when it is needed.
Status store_host_name_or_empty(std::string_view v, std::string& field) {
  if (trim(v).empty()) {
    field.clear();
    return ok_status();
  }
  return store(parse_host_name(v), field);
}

Status add_domain_policy(Config& c, std::string_view v) {
  auto policy = parse_domain_policy(v);
  if (!policy) return policy.error();
  c.domain_policies.push_back(std::move(*policy));
  return ok_status();
}

Values render_domain_policies(const Config& c) {
  Values out;
  for (const auto& p : c.domain_policies) out.push_back(format_domain_policy(p));
  return out;
}

std::vector<ConfigKey> make_top_level_keys() {
  using S = ConfigSection;
  return {
      {"database", S::top, "/var/lib/etrn-sweeper/etrn.db",
       "the database both programs share: an SQLite file, or a PostgreSQL URI "
       "(postgresql://etrn@db.example/etrn?sslmode=verify-full) that several hosts share",
       Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_required_text(v), c.database); },
       [](const Config& c) { return Values{c.database}; }},
      {"database_password_file", S::top, "",
       "PostgreSQL: a file whose first line is the password, without group or other "
       "permissions (empty: libpq's own PGPASSFILE or ~/.pgpass)",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_absolute_path(v), c.database_password_file);
       },
       [](const Config& c) { return Values{c.database_password_file}; },
       "/etc/etrn-sweeper/database.password"},
      {"instance", S::top, "",
       "the MTA host whose rows these are in a store several hosts share: every record, event, "
       "outbox row and run names it, and a sweeper changes only its own (empty: the MTA's own "
       "name, Postfix myhostname or Sendmail $j)",
       Repeat::once,
       [](Config& c, std::string_view v) { return store_host_name_or_empty(v, c.instance); },
       [](const Config& c) { return Values{c.instance}; }, "mx1.provider.example"},
      {"etrn_domains", S::top, "",
       "domains whose mail waits for ETRN (comma/space list; \".name\": the subdomains of name "
       "only)",
       Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_domain_list(v), c.etrn_domains); },
       [](const Config& c) { return Values{format_list(c.etrn_domains)}; }},
      {"etrn_transports", S::top, "",
       "{rcpt_mailer} transport names whose mail waits for ETRN (comma/space list)", Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_transport_list(v), c.etrn_transports);
       },
       [](const Config& c) { return Values{format_list(c.etrn_transports)}; }},
      {"expire_after", S::top, "2d", "how long normal-priority mail waits before it is bounced",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_positive_duration(v), c.expire_after);
       },
       [](const Config& c) { return Values{format_duration(c.expire_after)}; }},
      {"expire_after_urgent", S::top, "1d", "how long urgent mail waits before it is bounced",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_positive_duration(v), c.expire_after_urgent);
       },
       [](const Config& c) { return Values{format_duration(c.expire_after_urgent)}; }},
      {"expire_after_non_urgent", S::top, "3d",
       "how long non-urgent mail waits before it is bounced", Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_positive_duration(v), c.expire_after_non_urgent);
       },
       [](const Config& c) { return Values{format_duration(c.expire_after_non_urgent)}; }},
      {"warn_after", S::top, "4h", "when the sender gets a delay warning (0: never)", Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_nonnegative_duration(v), c.warn_after);
       },
       [](const Config& c) { return Values{format_duration(c.warn_after)}; }},
      {"domain_policy", S::top, "",
       "PATTERN expire_after=DURATION warn_after=DURATION: per-domain timeouts, first match wins "
       "(repeatable)",
       Repeat::many, add_domain_policy, render_domain_policies,
       "customer.example expire_after=72h warn_after=12h"},
      {"log_level", S::top, "info", "trace, debug, info, warn or error", Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_log_level(v), c.log_level); },
       [](const Config& c) { return Values{c.log_level}; }},
  };
}

std::vector<ConfigKey> make_milter_keys() {
  using S = ConfigSection;
  return {
      {"socket", S::milter, "unix:/run/etrn-sweeper/milter.sock",
       "where the milter listens: unix:/PATH or inet:PORT@HOST", Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_milter_socket(v), c.milter_socket); },
       [](const Config& c) { return Values{c.milter_socket}; }},
      {"on_error", S::milter, "accept",
       "what to do with a message when recording it fails: accept or tempfail", Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_on_error(v), c.on_error); },
       [](const Config& c) { return Values{std::string(to_string(c.on_error))}; }},
      {"user", S::milter, "etrn-sweeper", "the user the milter runs as after start-up",
       Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_required_text(v), c.milter_user); },
       [](const Config& c) { return Values{c.milter_user}; }},
      {"socket_mode", S::milter, "0660", "a unix socket's permissions (octal)", Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_socket_mode(v), c.milter_socket_mode);
       },
       [](const Config& c) { return Values{format_socket_mode(c.milter_socket_mode)}; }},
      {"socket_group", S::milter, "",
       "a unix socket's group (empty: the directory's when it is set-group-ID, as Postfix's "
       "spool directory is made, else the user's own)",
       Repeat::once,
       [](Config& c, std::string_view v) {
         c.milter_socket_group = std::string(trim(v));
         return ok_status();
       },
       [](const Config& c) { return Values{c.milter_socket_group}; }, "postfix"},
      {"commit_interval", S::milter, "100ms",
       "a record is committed within this time of end of message (group commit; a crash loses "
       "at most this interval's records, which the next sweep adopts from the queue)",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_interval(v), c.milter_commit_interval);
       },
       [](const Config& c) { return Values{format_interval(c.milter_commit_interval)}; }},
      {"record_timeout", S::milter, "5s",
       "how long records may wait past commit_interval for a database that does not take them "
       "(locked, full, read-only, gone) before new messages go unrecorded per on_error",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_positive_duration(v), c.milter_record_timeout);
       },
       [](const Config& c) { return Values{format_duration(c.milter_record_timeout)}; }},
      {"database_user", S::milter, "",
       "PostgreSQL: the role the milter connects as, when it is not the one `database` names "
       "(etrn-roles.sql: etrn_milter)",
       Repeat::once,
       [](Config& c, std::string_view v) {
         c.milter_database_user = std::string(trim(v));
         return ok_status();
       },
       [](const Config& c) { return Values{c.milter_database_user}; }, "etrn_milter"},
      {"database_password_file", S::milter, "",
       "PostgreSQL: the milter role's password file (as the top-level key; empty: that key's)",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_absolute_path(v), c.milter_database_password_file);
       },
       [](const Config& c) { return Values{c.milter_database_password_file}; },
       "/etc/etrn-sweeper/milter-database.password"},
  };
}

std::vector<ConfigKey> make_sweeper_keys() {
  using S = ConfigSection;
  return {
      {"mta", S::sweeper, "postfix", "the MTA whose queue is swept: postfix or sendmail",
       Repeat::once, [](Config& c, std::string_view v) { return store(parse_mta_kind(v), c.mta); },
       [](const Config& c) { return Values{std::string(to_string(c.mta))}; }},
      {"postfix_config_directory", S::sweeper, "/etc/postfix",
       "Postfix's configuration directory (postconf -c)", Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_required_text(v), c.postfix_config_directory);
       },
       [](const Config& c) { return Values{c.postfix_config_directory}; }},
      {"postfix_command_directory", S::sweeper, "/usr/sbin", "where postqueue and postsuper are",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_required_text(v), c.postfix_command_directory);
       },
       [](const Config& c) { return Values{c.postfix_command_directory}; }},
      {"sendmail_queue_directory", S::sweeper, "/var/spool/mqueue", "Sendmail's queue directory",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_required_text(v), c.sendmail_queue_directory);
       },
       [](const Config& c) { return Values{c.sendmail_queue_directory}; }},
      {"sendmail_program", S::sweeper, "/usr/sbin/sendmail",
       "the sendmail binary, used to send DSNs", Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_required_text(v), c.sendmail_program);
       },
       [](const Config& c) { return Values{c.sendmail_program}; }},
      {"sendmail_config_file", S::sweeper, "",
       "sendmail.cf passed with -C to Sendmail (empty: its default)", Repeat::once,
       [](Config& c, std::string_view v) {
         c.sendmail_config_file = std::string(v);
         return ok_status();
       },
       [](const Config& c) { return Values{c.sendmail_config_file}; }},
      {"reporting_mta", S::sweeper, "",
       "the host name in DSNs' Reporting-MTA and From (empty: the MTA's own, Postfix myhostname or "
       "Sendmail $j)",
       Repeat::once,
       [](Config& c, std::string_view v) { return store_host_name_or_empty(v, c.reporting_mta); },
       [](const Config& c) { return Values{c.reporting_mta}; }, "mx.provider.example"},
      {"postmaster", S::sweeper, "postmaster",
       "who is told when a DSN cannot be delivered even as headers only (the message stays on "
       "hold), like Postfix's 2bounce_notice_recipient",
       Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_notice_address(v), c.postmaster); },
       [](const Config& c) { return Values{c.postmaster}; }},
      {"bounce_size_limit", S::sweeper, "50000",
       "bytes of the original message returned in full in a DSN (k, M)", Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_byte_size(v), c.bounce_size_limit); },
       [](const Config& c) { return Values{std::to_string(c.bounce_size_limit)}; }},
      {"metrics_file", S::sweeper, "",
       "a Prometheus textfile written after each sweep, e.g. in node_exporter's textfile "
       "directory (empty: none)",
       Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_absolute_path(v), c.metrics_file); },
       [](const Config& c) { return Values{c.metrics_file}; },
       "/var/lib/prometheus/node-exporter/etrn-sweeper.prom"},
      {"history_retention", S::sweeper, "400d",
       "closed history (messages all of whose recipients expired or departed, and their events) "
       "last changed longer ago than this is deleted by `prune` and at the end of each sweep; 0: "
       "keep it forever",
       Repeat::once,
       [](Config& c, std::string_view v) { return store(parse_retention(v), c.history_retention); },
       [](const Config& c) { return Values{format_duration(c.history_retention)}; }},
      {"state_directory", S::sweeper, "",
       "where the sweeper keeps its own files (the outbox's sent logs); empty: "
       "the SQLite database's directory, or /var/lib/etrn-sweeper when the database is "
       "PostgreSQL",
       Repeat::once,
       [](Config& c, std::string_view v) {
         return store(parse_absolute_path(v), c.state_directory);
       },
       [](const Config& c) { return Values{c.state_directory}; }, "/var/lib/etrn-sweeper"},
  };
}

std::vector<ConfigKey> make_config_keys() {
  auto keys = make_top_level_keys();
  for (auto& k : make_milter_keys()) keys.push_back(k);
  for (auto& k : make_sweeper_keys()) keys.push_back(k);
  return keys;
}

// Whether `key` holds its built-in default in `config`.
bool at_default(const ConfigKey& key, const Config& config) {
  static const Config defaults;
  return key.render(config) == key.render(defaults);
}

void render_section(std::string& out, const Config& config, ConfigSection section,
                    ConfigRender how) {
  std::string body;
  for (const auto& key : config_keys()) {
    if (key.section != section) continue;
    const bool is_default = at_default(key, config);
    if (how == ConfigRender::changed && is_default) continue;
    const std::string name(key.name);
    const std::string comment = how == ConfigRender::file && is_default ? "#" : "";
    if (how == ConfigRender::file) body += "\n# " + std::string(key.description) + "\n";
    const auto values = key.render(config);
    // A repeatable key with no value: commented, since "key =" would set
    // an empty one.
    if (values.empty())
      body +=
          "#" + name + (how == ConfigRender::file ? " = " + std::string(key.example) : " =") + "\n";
    for (const auto& v : values) body += comment + name + (v.empty() ? " =\n" : " = " + v + "\n");
  }
  if (body.empty() && how == ConfigRender::changed) return;
  if (section != ConfigSection::top) out += "\n[" + std::string(section_name(section)) + "]\n";
  out += body;
}

}  // namespace

std::string_view section_name(ConfigSection section) {
  switch (section) {
    case ConfigSection::milter:
      return "milter";
    case ConfigSection::sweeper:
      return "sweeper";
    case ConfigSection::top:
      break;
  }
  return "";
}

std::string section_label(ConfigSection section) {
  if (section == ConfigSection::top) return "the top level";
  return "[" + std::string(section_name(section)) + "]";
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = make_config_keys();  // immutable after first use
  return keys;
}

const ConfigKey* find_config_key(ConfigSection section, std::string_view name) {
  for (const auto& key : config_keys()) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

std::string qualified_name(const ConfigKey& key) {
  if (key.section == ConfigSection::top) return std::string(key.name);
  return std::string(section_name(key.section)) + "." + std::string(key.name);
}

std::string render_config(const Config& config, ConfigRender how) {
  std::string out;
  render_section(out, config, ConfigSection::top, how);
  render_section(out, config, ConfigSection::milter, how);
  render_section(out, config, ConfigSection::sweeper, how);
  return out;
}

std::string render_default_config() {
  std::string out =
      "# etrn-sweeper.conf - the configuration of etrn-milter and etrn-sweeper.\n"
      "#\n"
      "# Every key is shown commented out with its built-in default: uncomment\n"
      "# and change what this host needs, and a later version's new defaults\n"
      "# reach the others. Durations take the units s m h d w (48h, 2d, 90m); a\n"
      "# bare number is seconds. '#' starts a comment.\n";
  out += render_config(Config{}, ConfigRender::file);
  return out;
}

}  // namespace etrn
