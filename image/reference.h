// Image names and tags as the distribution reference grammar defines them (the one
// Docker, podman, skopeo and registries check):
//   name       := [domain '/'] component ('/' component)*     at most 255 characters
//   domain     := host [':' port]    host: DNS labels joined by '.', or '[' IPv6 ']'
//   component  := [a-z0-9]+ (('.' | '_' | '__' | '-'+) [a-z0-9]+)*
//   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace strata {

inline constexpr size_t max_image_name_length = 255;
inline constexpr size_t max_tag_length = 128;

// Empty when `name` is a valid image name, else what is wrong with it
// (e.g. "its component '..' must start with a lower-case letter or digit").
std::string image_name_problem(std::string_view name);
bool is_valid_tag(std::string_view tag);

// "registry/repo:tag" as repository and tag (a ':' after the last '/'; none: "latest").
std::pair<std::string, std::string> split_repo_tag(const std::string& ref);

} // namespace strata
