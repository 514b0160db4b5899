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

Result<std::string> store_target(const std::string& database, const std::string& password_file) {
  if (password_file.empty()) return database;
  if (!is_postgres_uri(database))
    return make_error("database_password_file is set, but database " + database +
                      " is no PostgreSQL URI");
  auto password = read_password(password_file);
  if (!password) return password.error();
  const char separator = database.find('?') == std::string::npos ? '?' : '&';
  return database + separator + "password=" + percent_encoded(*password);
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
