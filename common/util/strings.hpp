// strings.hpp - small generic string helpers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace etrn {

std::string_view trim(std::string_view s);
std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
// Splits on `sep`, trims each piece, drops empty pieces.
std::vector<std::string> split_list(std::string_view s, char sep);

}  // namespace etrn
