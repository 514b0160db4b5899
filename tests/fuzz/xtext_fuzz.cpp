// xtext_fuzz.cpp - RFC 3461 xtext (common/util/xtext), which decodes the
// ENVID and ORCPT a client sends and encodes what goes into a DSN field.
//
// Properties: encoding any bytes gives only "!".."~" with every "+" the
// start of "+HH" (upper-case hex) and no "="; decoding it gives the bytes
// back; whatever decodes re-encodes and decodes to the same bytes; decoding
// never lengthens.
#include <cstdint>
#include <string>

#include "common/util/xtext.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

bool is_upper_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

void check_encoding(std::string_view encoded) {
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const auto c = static_cast<unsigned char>(encoded[i]);
    FUZZ_CHECK(c >= '!' && c <= '~' && c != '=', "xtext output is printable ASCII without '='");
    if (c == '+') {
      FUZZ_CHECK(
          i + 2 < encoded.size() && is_upper_hex(encoded[i + 1]) && is_upper_hex(encoded[i + 2]),
          "'+' in xtext output starts '+HH'");
      i += 2;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = etrn::fuzz::as_text(data, size);

  const std::string encoded = etrn::xtext_encode(input);
  check_encoding(encoded);
  const auto round_trip = etrn::xtext_decode(encoded);
  FUZZ_CHECK(round_trip && *round_trip == input, "decode(encode(x)) == x");

  const auto decoded = etrn::xtext_decode(input);
  if (decoded) {
    FUZZ_CHECK(decoded->size() <= input.size(), "decoding never lengthens");
    const auto again = etrn::xtext_decode(etrn::xtext_encode(*decoded));
    FUZZ_CHECK(again && *again == *decoded, "what decodes re-encodes to the same bytes");
  }
  return 0;
}
