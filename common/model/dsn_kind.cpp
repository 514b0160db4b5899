// dsn_kind.cpp - the spelling of the DSN kinds.
#include "common/model/dsn_kind.hpp"

namespace etrn {

std::string_view to_string(DsnKind kind) {
  return kind == DsnKind::delayed ? "delayed" : "failed";
}

std::optional<DsnKind> parse_dsn_kind(std::string_view name) {
  if (name == "delayed") return DsnKind::delayed;
  if (name == "failed") return DsnKind::failed;
  return std::nullopt;
}

}  // namespace etrn
