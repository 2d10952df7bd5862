#include "image/registry/pull.h"
#include "sys/error.h"

#include <gtest/gtest.h>

namespace strata::registry {
namespace {

using nlohmann::json;

std::string d(char c) { return "sha256:" + std::string(64, c); }

json index_of(std::initializer_list<json> entries) { return {{"schemaVersion", 2}, {"manifests", entries}}; }

json entry(char c, const std::string& os, const std::string& arch, const std::string& variant = "") {
  json p{{"os", os}, {"architecture", arch}};
  if (!variant.empty()) p["variant"] = variant;
  return {{"digest", d(c)}, {"size", 1}, {"platform", p}};
}

TEST(ChoosePlatform, ByOsArchVariant) {
  json index = index_of({entry('a', "linux", "amd64"), entry('b', "linux", "arm", "v6"), entry('c', "linux", "arm", "v7"),
                         entry('e', "windows", "amd64")});
  EXPECT_EQ(choose_platform(index, {"linux", "amd64", ""}, "t"), d('a'));
  EXPECT_EQ(choose_platform(index, {"linux", "arm", "v7"}, "t"), d('c'));
  EXPECT_EQ(choose_platform(index, {"linux", "arm", ""}, "t"), d('b')); // any variant: the first
  EXPECT_EQ(choose_platform(index, {"windows", "amd64", ""}, "t"), d('e'));
}

TEST(ChoosePlatform, NoneFitsNamesWhatThereIs) {
  json index = index_of({entry('a', "linux", "amd64"), entry('b', "linux", "arm64", "v8")});
  try {
    choose_platform(index, {"linux", "s390x", ""}, "docker://r/x");
    FAIL();
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("linux/s390x"), std::string::npos) << m;
    EXPECT_NE(m.find("linux/amd64, linux/arm64/v8"), std::string::npos) << m;
  }
}

TEST(ChoosePlatform, Malformed) {
  EXPECT_THROW(choose_platform(json::object(), {"linux", "amd64", ""}, "t"), InputError);
  EXPECT_THROW(choose_platform(index_of({{{"digest", "md5:x"}, {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}),
                               {"linux", "amd64", ""}, "t"),
               InputError);
}

// Found while writing fuzz_registry_manifest (its corpus keeps the inputs): json::value throws a
// type_error (not an InputError) when a registry sends a member of another type, and
// strata exited 1 with nlohmann's message.
TEST(ChoosePlatform, MistypedMembersAreInputErrors) {
  json numbers = index_of({{{"digest", d('a')}, {"platform", {{"os", 5}, {"architecture", "amd64"}}}}});
  EXPECT_THROW(choose_platform(numbers, {"linux", "amd64", ""}, "t"), InputError);
  json digest = index_of({{{"digest", 7}, {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}});
  EXPECT_THROW(choose_platform(digest, {"linux", "amd64", ""}, "t"), InputError);
  json variant = index_of({{{"digest", d('a')}, {"platform", {{"os", "linux"}, {"architecture", "arm"}, {"variant", {}}}}}});
  EXPECT_THROW(choose_platform(variant, {"linux", "arm", "v7"}, "t"), InputError);
}

TEST(ImageManifest, MediaTypeAndDescriptors) {
  EXPECT_EQ(image_manifest_media_type(json{{"schemaVersion", "1"}}, "", "t"), media_type::kOciManifest);
  EXPECT_THROW(image_manifest_media_type(json{{"schemaVersion", 1}}, "", "t"), InputError);
  EXPECT_THROW(image_manifest_media_type(json::object(), "text/html", "t"), InputError);
  json manifest{{"config", {{"digest", d('c')}, {"size", 10}}},
                {"layers", {{{"digest", d('l')}, {"size", 20}, {"mediaType", "application/vnd.oci.image.layer.v1.tar+zstd"}}}}};
  ManifestBlobs blobs = parse_image_manifest(manifest, "t");
  EXPECT_EQ(blobs.config_digest, d('c'));
  ASSERT_EQ(blobs.layers.size(), 1u);
  EXPECT_EQ(blobs.layers[0].compression, Compression::Zstd);
  manifest["layers"][0]["size"] = "20";
  EXPECT_THROW(parse_image_manifest(manifest, "t"), InputError);
  for (json bad : {json(6.14418e+23), json(-1), json(2.5)}) {
    manifest["layers"][0]["size"] = bad;
    EXPECT_THROW(parse_image_manifest(manifest, "t"), InputError) << bad.dump();
  }
  manifest["layers"][0]["size"] = 20;
  manifest["config"]["size"] = 1e30;
  EXPECT_THROW(parse_image_manifest(manifest, "t"), InputError);
}

} // namespace
} // namespace strata::registry
