#include "image/digest.h"
#include "image/nix/base32.h"
#include "image/nix/nar_hash_text.h"
#include "nix_tool.h"

#include <gtest/gtest.h>

#include <random>

namespace strata::nix {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// nix-store -q --hash printed this for a store path whose NAR sha256 is the hex below.
constexpr std::string_view known_hex = "10551daed7fa467d0b58826e7eb9a0f2af7d693de319f2ef775fffcda244b9f6";
constexpr std::string_view known_base32 = "1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h";

TEST(NixBase32, EncodesAsNixStorePrintedIt) {
  EXPECT_EQ(base32_encode(unhex(known_hex)), known_base32);
  EXPECT_EQ(sha256_base32_text(unhex(known_hex)), "sha256:" + std::string(known_base32));
  EXPECT_EQ(sha256_base16_text(unhex(known_hex)), "sha256:" + std::string(known_hex));
}

TEST(NixBase32, LengthsFollowNix) {
  EXPECT_EQ(base32_length(32), 52u);
  EXPECT_EQ(base32_length(20), 32u); // store path hash parts
  EXPECT_EQ(base32_length(16), 26u);
}

TEST(NixBase32, AgreesWithNixHashOnRandomDigests) {
  test::NixEnvironment env;
  std::mt19937 rng(12345);
  for (int round = 0; round < 8; ++round) {
    std::string raw(32, '\0');
    for (char& c : raw) c = static_cast<char>(rng() & 0xff);
    std::string expected = test::trim(test::run("nix-hash --type sha256 --to-base32 " + to_hex(raw)));
    EXPECT_EQ(base32_encode(raw), expected);
    auto back = base32_decode(expected, 32);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, raw);
  }
}

TEST(NixBase32, DecodeRejectsBadText) {
  EXPECT_FALSE(base32_decode(std::string(52, 'e'), 32)); // 'e' is not in the alphabet
  EXPECT_FALSE(base32_decode(std::string(51, '0'), 32));
  // The first character carries 4 bits beyond 32 bytes: only 0/1 are possible there.
  std::string high = "z" + std::string(51, '0');
  EXPECT_FALSE(base32_decode(high, 32));
  EXPECT_TRUE(base32_decode("1" + std::string(51, '0'), 32));
}

TEST(NarHashText, ParsesEveryFormNixWrites) {
  std::string raw = unhex(known_hex);
  EXPECT_EQ(parse_sha256_text(known_hex), raw);
  EXPECT_EQ(parse_sha256_text("sha256:" + std::string(known_hex)), raw);
  EXPECT_EQ(parse_sha256_text(known_base32), raw);
  EXPECT_EQ(parse_sha256_text("sha256:" + std::string(known_base32)), raw);
  std::string b64 = test::trim(test::run("printf %s " + std::string(known_hex) + " | xxd -r -p | base64 -w0"));
  EXPECT_EQ(parse_sha256_text("sha256-" + b64), raw);
  EXPECT_EQ(parse_sha256_text("sha256:" + b64), raw);
}

TEST(NarHashText, RejectsMalformedHashes) {
  EXPECT_FALSE(parse_sha256_text(""));
  EXPECT_FALSE(parse_sha256_text("sha256:"));
  EXPECT_FALSE(parse_sha256_text("sha256:xyz"));
  EXPECT_FALSE(parse_sha256_text(std::string(known_hex).substr(2)));
  EXPECT_FALSE(parse_sha256_text("sha256-!!!!"));
  EXPECT_FALSE(parse_sha256_text(std::string(63, 'a') + "g"));
}

} // namespace
} // namespace strata::nix
