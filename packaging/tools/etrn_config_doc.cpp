// etrn_config_doc.cpp - a build-time tool (not installed) that prints
// etrn-sweeper.conf(5) or the configuration file to install, both from the
// key table the programs parse with.
//
//   etrn-config-doc [--output FILE] man VERSION DATE
//   etrn-config-doc [--output FILE] config [--set KEY=VALUE]... [--reason LINE]...
//
// --reason lines go into the header of the file, saying why the overrides.
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "common/util/sysexits.hpp"
#include "packaging/tools/config_man.hpp"

namespace {

constexpr const char* kUsage =
    "usage: etrn-config-doc [--output FILE] man VERSION DATE\n"
    "       etrn-config-doc [--output FILE] config [--set KEY=VALUE]... [--reason LINE]...\n";

int usage_error() {
  std::cerr << kUsage;
  return etrn::to_int(etrn::ExitCode::usage);
}

// Writes `text` to `path` (stdout when empty); a build must not go on with
// half a file, so a failed write is an error.
int emit(const std::string& text, const std::string& path) {
  if (path.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (out) return 0;
  std::cerr << "etrn-config-doc: cannot write " << path << "\n";
  return etrn::to_int(etrn::ExitCode::cant_create);
}

int print_config(const std::vector<std::string>& args, const std::string& output) {
  std::vector<std::pair<std::string, std::string>> overrides;
  std::string reason;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i + 1 >= args.size()) return usage_error();
    const std::string& value = args[++i];
    if (args[i - 1] == "--reason") {
      reason += value + "\n";
      continue;
    }
    const auto equals = value.find('=');
    if (args[i - 1] != "--set" || equals == std::string::npos) return usage_error();
    overrides.emplace_back(value.substr(0, equals), value.substr(equals + 1));
  }
  auto text = etrn::render_installed_config(overrides, reason);
  if (!text) {
    std::cerr << "etrn-config-doc: " << text.error().message << "\n";
    return etrn::to_int(etrn::ExitCode::config);
  }
  return emit(*text, output);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string output;
  if (args.size() >= 2 && args[0] == "--output") {
    output = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() == 3 && args[0] == "man")
    return emit(etrn::render_config_man_page(args[1], args[2]), output);
  if (!args.empty() && args[0] == "config")
    return print_config(std::vector<std::string>(args.begin() + 1, args.end()), output);
  return usage_error();
}
