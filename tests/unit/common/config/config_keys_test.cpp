// config_keys_test.cpp - tests of the configuration key table.
#include "common/config/config_keys.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

namespace etrn {
namespace {

TEST(ConfigKeys, NamesEveryKeyOfTheInterface) {
  for (const char* name :
       {"database", "etrn_domains", "etrn_transports", "expire_after", "expire_after_urgent",
        "expire_after_non_urgent", "warn_after", "domain_policy", "log_level"}) {
    EXPECT_NE(find_config_key(ConfigSection::top, name), nullptr) << name;
  }
  for (const char* name : {"socket", "on_error", "user", "commit_interval", "record_timeout"}) {
    EXPECT_NE(find_config_key(ConfigSection::milter, name), nullptr) << name;
  }
  for (const char* name : {"mta", "postfix_config_directory", "postfix_command_directory",
                           "sendmail_queue_directory", "sendmail_program", "sendmail_config_file",
                           "reporting_mta", "bounce_size_limit", "postmaster"}) {
    EXPECT_NE(find_config_key(ConfigSection::sweeper, name), nullptr) << name;
  }
}

TEST(ConfigKeys, HasNoDuplicateAndEveryEntryIsComplete) {
  std::set<std::string> seen;
  for (const auto& key : config_keys()) {
    EXPECT_TRUE(seen.insert(qualified_name(key)).second) << "duplicate " << qualified_name(key);
    EXPECT_FALSE(key.description.empty()) << key.name;
    EXPECT_NE(key.apply, nullptr) << key.name;
    EXPECT_NE(key.render, nullptr) << key.name;
  }
}

// The table's default text and the Config struct's initializers are the two
// places a default is written; they must agree.
TEST(ConfigKeys, DefaultTextMatchesTheBuiltInDefault) {
  const Config defaults;
  for (const auto& key : config_keys()) {
    const auto values = key.render(defaults);
    const std::string got = values.empty() ? "" : values.front();
    EXPECT_EQ(got, key.default_text) << "key " << qualified_name(key);
  }
}

TEST(ConfigKeys, EveryDefaultTextParsesBackToTheDefault) {
  const Config defaults;
  for (const auto& key : config_keys()) {
    if (key.repeat == Repeat::many) continue;  // no default value to apply
    Config c;
    const auto status = key.apply(c, key.default_text);
    ASSERT_TRUE(status.ok()) << key.name << ": " << status.error().message;
    EXPECT_EQ(key.render(c), key.render(defaults)) << key.name;
  }
}

TEST(ConfigKeys, OnlyDomainPolicyRepeats) {
  for (const auto& key : config_keys()) {
    EXPECT_EQ(key.repeat == Repeat::many, key.name == "domain_policy") << key.name;
  }
}

TEST(FindConfigKey, ReturnsNullForAKeyInAnotherSection) {
  EXPECT_EQ(find_config_key(ConfigSection::top, "socket"), nullptr);
  EXPECT_EQ(find_config_key(ConfigSection::milter, "database"), nullptr);
  EXPECT_EQ(find_config_key(ConfigSection::sweeper, "nonsense"), nullptr);
}

TEST(QualifiedName, PrefixesSectionKeys) {
  EXPECT_EQ(qualified_name(*find_config_key(ConfigSection::milter, "socket")), "milter.socket");
  EXPECT_EQ(qualified_name(*find_config_key(ConfigSection::sweeper, "mta")), "sweeper.mta");
  EXPECT_EQ(qualified_name(*find_config_key(ConfigSection::top, "database")), "database");
}

TEST(SectionLabel, NamesEachSection) {
  EXPECT_EQ(section_label(ConfigSection::top), "the top level");
  EXPECT_EQ(section_label(ConfigSection::milter), "[milter]");
  EXPECT_EQ(section_label(ConfigSection::sweeper), "[sweeper]");
  EXPECT_EQ(section_name(ConfigSection::top), "");
}

TEST(RenderDefaultConfig, ShowsEveryKeyAndEverySection) {
  const auto text = render_default_config();
  for (const auto& key : config_keys()) {
    EXPECT_NE(text.find(std::string(key.name) + " ="), std::string::npos) << key.name;
  }
  EXPECT_NE(text.find("\n[milter]\n"), std::string::npos);
  EXPECT_NE(text.find("\n[sweeper]\n"), std::string::npos);
  EXPECT_LT(text.find("[milter]"), text.find("[sweeper]"));
}

TEST(RenderDefaultConfig, ShowsAnExampleForAKeyWithoutDefault) {
  EXPECT_NE(render_default_config().find(
                "\n#domain_policy = customer.example expire_after=72h warn_after=12h\n"),
            std::string::npos);
}

TEST(RenderDefaultConfig, ParsesWithoutErrorsToTheDefaults) {
  const auto parse = parse_config(render_default_config(), "default.conf");
  for (const auto& e : parse.errors) ADD_FAILURE() << e.to_string();
  EXPECT_EQ(render_config(parse.config, ConfigRender::effective),
            render_config(Config{}, ConfigRender::effective));
}

// New defaults of a later version reach hosts whose file only shows them.
TEST(RenderDefaultConfig, ShowsEveryDefaultCommentedOut) {
  std::istringstream text(render_default_config());
  for (std::string line; std::getline(text, line);) {
    if (line.empty() || line.front() == '#' || line.front() == '[') continue;
    ADD_FAILURE() << "an active line in the default file: " << line;
  }
  EXPECT_NE(render_default_config().find("\n#expire_after = 2d\n"), std::string::npos);
}

TEST(RenderConfig, RoundTripsAConfigWithEveryKindOfValue) {
  Config c;
  c.etrn_domains = {"customer.example", ".dialup.example"};
  c.etrn_transports = {"etrn-only"};
  c.expire_after = Seconds{5400};
  c.domain_policies = {{"a.example", Seconds{3600}, std::nullopt},
                       {".b.example", std::nullopt, Seconds{0}}};
  c.on_error = OnError::tempfail;
  c.mta = MtaKind::sendmail;
  c.reporting_mta = "mx.provider.example";
  c.bounce_size_limit = 1234;
  for (ConfigRender how : {ConfigRender::file, ConfigRender::effective, ConfigRender::changed}) {
    const auto text = render_config(c, how);
    const auto parse = parse_config(text, "rendered.conf");
    for (const auto& e : parse.errors) ADD_FAILURE() << e.to_string();
    EXPECT_EQ(render_config(parse.config, ConfigRender::effective),
              render_config(c, ConfigRender::effective))
        << text;
    EXPECT_EQ(parse.config.domain_policies.size(), 2U);
  }
}

TEST(RenderConfig, TheEffectiveDefaultsParseBack) {
  const std::string text = render_config(Config{}, ConfigRender::effective);
  const auto parse = parse_config(text, "effective.conf");
  for (const auto& e : parse.errors) ADD_FAILURE() << e.to_string() << "\n" << text;
  EXPECT_NE(text.find("\n#domain_policy =\n"), std::string::npos) << "none set: commented";
}

TEST(RenderConfig, ChangedShowsOnlyWhatDiffersFromTheDefaults) {
  Config c;
  c.expire_after = Seconds{5400};
  c.postmaster = "hostmaster";
  EXPECT_EQ(render_config(c, ConfigRender::changed),
            "expire_after = 90m\n\n[sweeper]\npostmaster = hostmaster\n");
  EXPECT_EQ(render_config(Config{}, ConfigRender::changed), "");
}

}  // namespace
}  // namespace etrn
