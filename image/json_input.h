// Parsing JSON strata did not write (specs, image manifests and configs, closure graphs).
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace strata {

// nlohmann's values copy and free themselves recursively: a document nested deeper than
// this is refused before it is parsed, so that no input can overflow the stack.
inline constexpr size_t max_json_depth = 128;

// Parses text; InputError "<what> is not valid JSON at <where>: <reason>" naming the
// member being read (e.g. "at config.Labels.a") when the text is malformed, a number
// does not fit, or the nesting is deeper than max_json_depth.
nlohmann::json parse_json_input(std::string_view text, const std::string& what);

} // namespace strata
