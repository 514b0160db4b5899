// store_target.cpp - see store_target.hpp.
#include "common/store/store_target.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/store/postgres_database.hpp"
#include "common/util/posix_file.hpp"

namespace etrn {

namespace {

Result<std::string> read_password(const std::string& path) {
  auto fd = open_file(path, O_RDONLY | O_NOFOLLOW);
  if (!fd) return make_error("database_password_file: " + fd.error().message);
  struct stat st {};
  if (fstat(fd->get(), &st) != 0)
    return make_error("database_password_file " + path + ": " + errno_text());
  if (!S_ISREG(st.st_mode))
    return make_error("database_password_file " + path + " is not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return make_error("database_password_file " + path +
                      " has group or other permissions; want u=rw (0600) or less");
  auto text = read_all(*fd, path);
  if (!text) return text.error();
  std::string password = text->substr(0, text->find('\n'));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return make_error("database_password_file " + path + " is empty");
  return password;
}

}  // namespace

Result<std::string> store_target(const std::string& database, const std::string& password_file,
                                 const std::string& user) {
  if (password_file.empty() && user.empty()) return database;
  if (!is_postgres_uri(database))
    return make_error(std::string(user.empty() ? "database_password_file" : "database_user") +
                      " is set, but database " + database + " is no PostgreSQL URI");
  std::string target = database;
  // Query parameters come after the URI's own parts and win over them.
  const auto add = [&target](std::string_view key, const std::string& value) {
    target += (target.find('?') == std::string::npos ? '?' : '&') + std::string(key) + "=" +
              percent_encoded(value);
  };
  if (!user.empty()) add("user", user);
  if (!password_file.empty()) {
    auto password = read_password(password_file);
    if (!password) return password.error();
    add("password", *password);
  }
  return target;
}

std::string percent_encoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace etrn
