// config_man_test.cpp - etrn-sweeper.conf(5) and the installed
// configuration file are complete and parse back (packaging/tools/config_man).
#include "packaging/tools/config_man.hpp"

#include <gtest/gtest.h>

#include "common/config/config.hpp"
#include "common/config/config_keys.hpp"

namespace etrn {
namespace {

const char* kChrootSocket = "unix:/var/spool/postfix/etrn-sweeper/milter.sock";

TEST(RoffEscape, TurnsBackslashesIntoTheEscapeCharacter) {
  EXPECT_EQ(roff_escape(R"(a\b)"), R"(a\eb)");
}

TEST(RoffEscape, KeepsALeadingDotFromStartingARequest) {
  EXPECT_EQ(roff_escape(".name: subdomains"), "\\&.name: subdomains");
  EXPECT_EQ(roff_escape("'quoted"), "\\&'quoted");
}

TEST(RoffEscape, LeavesPlainTextAlone) {
  EXPECT_EQ(roff_escape("expire_after = 2d"), "expire_after = 2d");
}

TEST(ConfigManPage, DocumentsEveryKeyOfTheTableWithItsDefault) {
  const std::string page = render_config_man_page("1.2.3", "2026-11-29");
  for (const auto& key : config_keys()) {
    const std::string entry = "\\fB" + roff_escape(key.name) + "\\fR = ";
    EXPECT_NE(page.find(entry), std::string::npos) << "key " << key.name << " is missing";
    if (!key.default_text.empty()) {
      EXPECT_NE(page.find(entry + "\\fI" + roff_escape(key.default_text)), std::string::npos)
          << "key " << key.name << " lacks its default " << key.default_text;
    }
  }
}

TEST(ConfigManPage, HasTheTitleLineAndTheSectionsOfAManualPage) {
  const std::string page = render_config_man_page("1.2.3", "2026-11-29");
  EXPECT_NE(page.find(".TH ETRN\\-SWEEPER.CONF 5 \"2026-11-29\" \"etrn-sweeper 1.2.3\""),
            std::string::npos)
      << page.substr(0, 300);
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH FILES",
                              ".SH SEE ALSO", ".SH KEYS IN [milter]", ".SH KEYS IN [sweeper]"})
    EXPECT_NE(page.find(section), std::string::npos) << "no " << section;
}

TEST(InstalledConfig, WithoutOverridesIsTheDefaultConfiguration) {
  auto text = render_installed_config({}, "");
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, render_default_config());
}

TEST(InstalledConfig, ParsesBackWithTheOverrideAndOtherwiseTheDefaults) {
  auto text = render_installed_config({{"milter.socket", kChrootSocket}}, "because\nof chroot");
  ASSERT_TRUE(text.ok()) << text.error().message;
  const ConfigParse parse = parse_config(*text, "installed");
  ASSERT_TRUE(parse.ok()) << parse.errors.front().to_string();
  EXPECT_EQ(parse.config.milter_socket, kChrootSocket);
  const Config defaults;
  EXPECT_EQ(parse.config.database, defaults.database);
  EXPECT_EQ(parse.config.expire_after, defaults.expire_after);
}

TEST(InstalledConfig, NamesTheOverrideAndItsReasonInTheHeader) {
  auto text = render_installed_config({{"milter.socket", kChrootSocket}}, "because\nof chroot");
  ASSERT_TRUE(text.ok()) << text.error().message;
  const std::string head = text->substr(0, text->find("\n\n"));
  EXPECT_NE(head.find(std::string("#   milter.socket = ") + kChrootSocket), std::string::npos)
      << head;
  EXPECT_NE(head.find("# because\n# of chroot"), std::string::npos) << head;
}

TEST(InstalledConfig, RefusesAnOverrideThatDoesNotParse) {
  auto text = render_installed_config({{"milter.socket", "bogus"}}, "");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message.find("socket"), std::string::npos)
      << "got " << text.error().message << ", want it to name the key";
}

TEST(InstalledConfig, RefusesAnUnknownKey) {
  auto text = render_installed_config({{"milter.no_such_key", "1"}}, "");
  EXPECT_FALSE(text.ok());
}

}  // namespace
}  // namespace etrn
