// config.cpp - reads the configuration file and command-line overrides.
//
// Grammar, line by line: blank; "# comment"; "[milter]" or "[sweeper]";
// "key = value". A '#' anywhere starts a comment (no value needs one).
// Keys come from the table in config_keys.cpp. Every problem becomes a
// ConfigError with file, line and key; parsing goes on after an error so
// that one run reports them all.
#include "common/config/config.hpp"

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <utility>

#include "common/config/config_keys.hpp"
#include "common/util/posix_file.hpp"
#include "common/util/strings.hpp"

namespace etrn {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!key.empty()) out += ": " + key;
  return out + ": " + message;
}

namespace {

constexpr const char* kCommandLine = "command line";

// State of one parse: where we are and what we have seen.
class ConfigReader {
 public:
  ConfigReader(ConfigParse& parse, std::string file) : parse_(parse), file_(std::move(file)) {}

  void read_line(std::string_view raw, int line) {
    const auto text = trim(raw.substr(0, raw.find('#')));
    if (text.empty()) return;
    if (text.front() == '[') return read_section(text, line);
    read_setting(text, line);
  }

 private:
  void error(int line, std::string key, std::string message) {
    parse_.errors.push_back({file_, line, std::move(key), std::move(message)});
  }

  void read_section(std::string_view text, int line) {
    if (text.back() != ']')
      return error(line, std::string(text), "a section header must end with ']'");
    const auto name = trim(text.substr(1, text.size() - 2));
    in_unknown_section_ = false;
    if (name == "milter")
      section_ = ConfigSection::milter;
    else if (name == "sweeper")
      section_ = ConfigSection::sweeper;
    else {
      in_unknown_section_ = true;  // its keys are skipped: one error is enough
      error(line, std::string(text), "unknown section (known: [milter], [sweeper])");
    }
  }

  void read_setting(std::string_view text, int line) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) {
      return error(line, std::string(text), "expected \"key = value\"");
    }
    const auto name = trim(text.substr(0, eq));
    const auto value = trim(text.substr(eq + 1));
    if (name.empty()) return error(line, "", "missing key name before '='");
    if (in_unknown_section_) return;
    const ConfigKey* key = find_config_key(section_, name);
    if (key == nullptr) return unknown_key(name, line);
    if (!first_seen_ok(*key, line)) return;
    const auto status = key->apply(parse_.config, value);
    if (!status) error(line, std::string(name), status.error().message);
  }

  // Records where a key was first given; false (and an error) on a repeat.
  bool first_seen_ok(const ConfigKey& key, int line) {
    if (key.repeat == Repeat::many) return true;
    const auto [it, inserted] = first_line_.emplace(qualified_name(key), line);
    if (inserted) return true;
    error(line, std::string(key.name), "given twice, first at line " + std::to_string(it->second));
    return false;
  }

  void unknown_key(std::string_view name, int line) {
    for (const auto& key : config_keys()) {
      if (key.name == name) {
        return error(line, std::string(name),
                     "not valid in " + section_label(section_) + "; it belongs in " +
                         section_label(key.section));
      }
    }
    error(line, std::string(name), "unknown key in " + section_label(section_));
  }

  ConfigParse& parse_;
  std::string file_;
  ConfigSection section_ = ConfigSection::top;
  bool in_unknown_section_ = false;
  std::map<std::string, int> first_line_;
};

// The key an override names: "milter.socket", or a bare name found in
// exactly one section.
Result<const ConfigKey*> find_override_key(std::string_view name) {
  const auto dot = name.find('.');
  if (dot != std::string_view::npos) {
    const auto section = name.substr(0, dot);
    const auto bare = name.substr(dot + 1);
    for (const auto s : {ConfigSection::milter, ConfigSection::sweeper}) {
      if (section == section_name(s)) {
        if (const auto* key = find_config_key(s, bare)) return key;
        return make_error("unknown key in " + section_label(s));
      }
    }
    return make_error("unknown section \"" + std::string(section) + "\" (known: milter, sweeper)");
  }
  const ConfigKey* found = nullptr;
  for (const auto& key : config_keys()) {
    if (key.name != name) continue;
    if (found != nullptr)
      return make_error("ambiguous; write milter." + std::string(name) + " or sweeper." +
                        std::string(name));
    found = &key;
  }
  if (found == nullptr) return make_error("unknown key");
  return found;
}

// Reads a whole file; the error says why not, without the path (the
// ConfigError names the file).
Result<std::string> read_config_text(const std::string& path) {
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return make_error("cannot open: " + errno_text());
  std::string text;
  char buffer[8192];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0) text.append(buffer, n);
  if (std::ferror(f.get())) return make_error("cannot read: " + errno_text());
  return text;
}

}  // namespace

ConfigParse parse_config(std::string_view text, const std::string& file) {
  ConfigParse parse;
  parse.config.source_path = file;
  ConfigReader reader(parse, file);
  int line = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    reader.read_line(text.substr(0, end), ++line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return parse;
}

ConfigParse load_config_file(const std::string& path) {
  auto text = read_config_text(path);
  if (!text) {
    ConfigParse parse;
    parse.config.source_path = path;
    parse.errors.push_back({path, 0, "", text.error().message});
    return parse;
  }
  return parse_config(*text, path);
}

// A repeatable key (domain_policy) given on the command line is added
// after those from the file, so the file's policies match first.
void apply_config_override(ConfigParse& parse, const std::string& key, const std::string& value) {
  const auto found = find_override_key(trim(key));
  if (!found) {
    parse.errors.push_back({kCommandLine, 0, key, found.error().message});
    return;
  }
  const auto status = (*found)->apply(parse.config, trim(value));
  if (!status) parse.errors.push_back({kCommandLine, 0, key, status.error().message});
}

}  // namespace etrn
