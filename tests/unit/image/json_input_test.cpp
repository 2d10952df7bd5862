#include "image/json_input.h"
#include "sys/error.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

std::string nested(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

std::string error_of(const std::string& text) {
  try {
    parse_json_input(text, "spec t.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonInput, NestingIsBoundedBeforeParsing) {
  EXPECT_EQ(error_of(nested(max_json_depth)), "");
  EXPECT_EQ(error_of(nested(max_json_depth + 1)),
            "spec t.json is not valid JSON: it is nested more than 128 levels deep (at byte 128)");
  // deep enough to overflow the stack when copied or freed, if it were ever parsed
  EXPECT_NE(error_of(nested(1000000)).find("nested more than 128"), std::string::npos);
  EXPECT_NE(error_of(std::string(1000000, '{')).find("nested more than 128"), std::string::npos);
  // brackets inside strings (escaped quotes too) are no nesting
  EXPECT_EQ(error_of("{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}"), "");
}

TEST(JsonInput, ErrorsSayWhere) {
  EXPECT_EQ(error_of(R"({"name": "x", "uid": 1e400})"),
            "spec t.json is not valid JSON at 'uid': number overflow parsing '1e400'");
  EXPECT_NE(error_of(R"({"config": {"Labels": {"a": tru}}})").find("at 'config.Labels.a': parse error"), std::string::npos);
  EXPECT_NE(error_of(R"({"layers": [{"a": 1}, {"b": 1e999}]})").find("at 'layers[1].b'"), std::string::npos);
  EXPECT_NE(error_of("").find("at the top"), std::string::npos);
  EXPECT_NE(error_of("\"\xff\"").find("not valid JSON"), std::string::npos);
}

} // namespace
} // namespace strata
