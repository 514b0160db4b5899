// main.cpp - etrn-milter's command line (interface.md): options, the
// configuration check, and the one place a FatalError becomes an exit code.
#include <boost/program_options.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "common/config/config.hpp"
#include "common/util/sysexits.hpp"
#include "milter/daemon.hpp"

namespace po = boost::program_options;

namespace {

po::options_description option_descriptions() {
  po::options_description options("etrn-milter: records mail waiting for ETRN\n\nOptions");
  options.add_options()("config,c",
                        po::value<std::string>()->default_value(etrn::kDefaultConfigPath),
                        "configuration file")("socket", po::value<std::string>(),
                                              "listen here: unix:/path or inet:PORT@HOST")(
      "database", po::value<std::string>(),
      "the database: an SQLite file, or a PostgreSQL URI (postgresql://...)")(
      "foreground", "stay in the foreground and log to stderr")(
      "check-config", "check the configuration, print 'configuration OK' or the errors")(
      "version", "print the version")("help,h", "print this help");
  return options;
}

etrn::DaemonOptions daemon_options(const po::variables_map& vm) {
  etrn::DaemonOptions options;
  options.config_path = vm["config"].as<std::string>();
  options.foreground = vm.count("foreground") > 0;
  if (vm.count("database"))
    options.overrides.emplace_back("database", vm["database"].as<std::string>());
  if (vm.count("socket"))
    options.overrides.emplace_back("milter.socket", vm["socket"].as<std::string>());
  return options;
}

int run(int argc, char** argv) {
  const auto descriptions = option_descriptions();
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, descriptions), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "etrn-milter: " << e.what() << "\n" << descriptions;
    return etrn::to_int(etrn::ExitCode::usage);
  }
  if (vm.count("help")) {
    std::cout << descriptions;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "etrn-milter " << ETRN_VERSION << "\n";
    return 0;
  }
  const etrn::DaemonOptions options = daemon_options(vm);
  etrn::ConfigParse parse = etrn::load_milter_config(options);
  if (!parse.ok()) {
    for (const auto& e : parse.errors) std::cerr << e.to_string() << "\n";
    return etrn::to_int(etrn::ExitCode::config);
  }
  if (vm.count("check-config")) {
    std::cout << "configuration OK\n";
    return 0;
  }
  return etrn::run_daemon(options, std::move(parse.config));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const etrn::FatalError& e) {
    std::cerr << "etrn-milter: fatal: " << e.what() << "\n";
    return etrn::to_int(e.code());
  } catch (const std::exception& e) {
    std::cerr << "etrn-milter: internal error: " << e.what() << "\n";
    return etrn::to_int(etrn::ExitCode::software);
  }
}
