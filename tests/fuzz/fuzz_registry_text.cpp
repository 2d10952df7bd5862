// The registry's texts strata parses: a WWW-Authenticate challenge (from any registry
// a pull or push talks to) and image references (docker://…, pullImage's imageName).
// A reference that parses must print back to one that parses to the same parts.
#include "fuzz_support.h"
#include "image/registry/challenge.h"
#include "image/registry/reference.h"

#include <cstdlib>

namespace {

bool same(const strata::registry::Reference& a, const strata::registry::Reference& b) {
  return a.registry == b.registry && a.repository == b.repository && a.tag == b.tag && a.digest == b.digest;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  std::string text(fuzz::as_text(data, size));
  if (auto challenge = registry::parse_challenge(text)) {
    if (challenge->scheme.empty()) std::abort();
    for (char c : challenge->scheme)
      if (c >= 'A' && c <= 'Z') std::abort();
    (void)challenge->param("realm");
  }
  fuzz::expect_input_errors_only([&] {
    registry::Reference ref = registry::parse_image_name(text, "imageName");
    if (!same(registry::parse_docker_reference("docker://" + ref.to_string(), "again"), ref)) std::abort();
  });
  fuzz::expect_input_errors_only([&] { registry::parse_docker_reference(text, "--from-image"); });
  return 0;
}
