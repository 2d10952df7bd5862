#include "image/image_config.h"
#include "image/spec.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

using nlohmann::json;

Spec parse(const char* text) { return parse_spec(json::parse(text), "spec t.json", "/base"); }

std::string error_of(const char* text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Spec, DefaultsFollowDockerTools) {
  Spec s = parse(R"({"name": "Hello"})");
  EXPECT_EQ(s.name, "hello");
  EXPECT_EQ(s.tag, "");
  EXPECT_EQ(s.created, "1970-01-01T00:00:01Z");
  EXPECT_EQ(s.max_layers, 100);
  EXPECT_EQ(s.store_dir, "/nix/store");
  EXPECT_EQ(s.compression, Compression::Gzip);
  EXPECT_EQ(s.owner.uid, 0u);
  EXPECT_EQ(s.owner.uname, "root");
  EXPECT_TRUE(s.include_store_paths);
}

TEST(Spec, LayeringPipelineShorthandsListsAndFiles) {
  EXPECT_EQ(parse(R"({"name": "x"})").layering, "auto");
  EXPECT_EQ(parse(R"({"name": "x", "layeringPipeline": null})").layering, "auto");
  EXPECT_EQ(parse(R"({"name": "x", "layeringPipeline": "popularity"})").layering, "popularity");
  EXPECT_EQ(parse(R"({"name": "x", "layeringPipeline": "auto"})").layering, "auto");
  Spec listed = parse(R"({"name": "x", "layeringPipeline": [["popularity_contest"], ["limit_layers", 9]]})");
  EXPECT_EQ(listed.layering, "pipeline");
  EXPECT_EQ(listed.layering_pipeline, json::parse(R"([["popularity_contest"], ["limit_layers", 9]])"));
  EXPECT_EQ(listed.layering_source, "spec t.json: layeringPipeline");
  // A path (as a Nix derivation writing the pipeline to a file gives): read as JSON.
  TempDir dir("strata-spec-test");
  write_file(dir.path() + "/pipeline.json", R"([["split_every", 3]])");
  Spec from_file = parse_spec(json::parse(R"({"name": "x", "layeringPipeline": "pipeline.json"})"), "spec t.json", dir.path());
  EXPECT_EQ(from_file.layering, "pipeline");
  EXPECT_EQ(from_file.layering_pipeline, json::parse(R"([["split_every", 3]])"));
  EXPECT_EQ(from_file.layering_source, "layeringPipeline file " + dir.path() + "/pipeline.json");
  EXPECT_EQ(error_of(R"({"name": "x", "layeringPipeline": "populrity"})"),
            "spec t.json: 'layeringPipeline' is \"populrity\": not \"auto\", \"popularity\", a list of steps or a "
            "pipeline file");
  EXPECT_EQ(error_of(R"({"name": "x", "layeringPipeline": 3})"), "spec t.json: 'layeringPipeline' must be a string, not a number");
  write_file(dir.path() + "/broken.json", "[[");
  EXPECT_THROW(parse_spec(json::parse(R"({"name": "x", "layeringPipeline": "broken.json"})"), "spec t.json", dir.path()),
               InputError);
}

TEST(Spec, MaxLayersTakesAnyValueAboveOneAsDockerToolsDoes) {
  EXPECT_EQ(parse(R"({"name": "x", "maxLayers": 2})").max_layers, 2);
  EXPECT_EQ(parse(R"({"name": "x", "maxLayers": 200})").max_layers, 200);
  EXPECT_EQ(parse(R"({"name": "x", "maxLayers": 9223372036854775807})").max_layers, 2147483647);
  EXPECT_EQ(error_of(R"({"name": "x", "maxLayers": 1})"), "spec t.json: 'maxLayers' must be greater than 1, not 1");
}

TEST(Spec, ContentsIsAnAliasOfCopyToRoot) {
  // paths must exist: "/" does
  Spec s = parse(R"({"name": "x", "contents": ["/"], "diskSize": 1024, "buildVMMemorySize": 512})");
  ASSERT_EQ(s.copy_to_root.size(), 1u);
  EXPECT_EQ(s.copy_to_root[0], "/");
}

TEST(Spec, ErrorsNameTheKey) {
  EXPECT_EQ(error_of(R"({"name": "x", "colour": 1})"), "spec t.json: unknown key 'colour'");
  EXPECT_EQ(error_of(R"({"name": "x", "uid": "0"})"), "spec t.json: 'uid' must be a whole number, not a string");
  EXPECT_EQ(error_of(R"({"tag": "x"})"), "spec t.json: 'name' is missing");
  EXPECT_EQ(error_of(R"({"name": "x", "maxLayers": 0})"), "spec t.json: 'maxLayers' must be greater than 1, not 0");
  EXPECT_NE(error_of(R"({"name": "x", "copyToRoot": "rel"})").find("copyToRoot path /base/rel does not exist"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "mtime": "now"})").find("'mtime' cannot be \"now\""), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "compressor": "xz"})").find("unknown compression 'xz'"), std::string::npos);
  EXPECT_NE(error_of(R"([1])").find("must be a JSON object"), std::string::npos);
}

TEST(Spec, RefusesValuesThatMakeInvalidImages) {
  EXPECT_EQ(error_of(R"({"name": "x", "uid": 18446744073709551615})"),
            "spec t.json: 'uid' is 18446744073709551615, outside 0..4294967294");
  EXPECT_EQ(error_of(R"({"name": "x", "config": {"Cmd": 5}})"),
            "spec t.json: 'config.Cmd' must be a list of strings, not a whole number");
  EXPECT_NE(error_of(R"({"name": "../../etc/evil"})").find("'name' '../../etc/evil' is not a valid image name"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "tag": "-x"})").find("'tag' '-x' is not a valid tag"), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "created": "2023-02-30T00:00:00Z"})").find("'created' is '2023-02-30"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "mtime": "9999-12-31T23:59:59-01:00"})").find("outside 1970"), std::string::npos);
  EXPECT_EQ(error_of("{\"name\": \"x\", \"copyToRoot\": \"/\\u0000x\"}"), "spec t.json: 'copyToRoot' holds a NUL byte");
  EXPECT_NE(error_of(R"({"name": "x", "os": ""})").find("'os' is '', not a platform name"), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "copyToRoot": "/proc"})").find("kernel's proc filesystem"), std::string::npos);
  EXPECT_EQ(parse(R"({"name": "Localhost:5000/A/b", "mtime": 253402300799})").name, "localhost:5000/a/b");
}

TEST(Spec, ParsesTimes) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01Z"), 1);
  EXPECT_EQ(parse_rfc3339("2001-02-03T04:05:06.789Z"), 981173106);
  EXPECT_EQ(parse_rfc3339("2001-02-03T05:05:06+01:00"), 981173106);
  EXPECT_FALSE(parse_rfc3339("2001-02-03"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  Spec s = parse(R"({"name": "x", "mtime": 42})");
  EXPECT_EQ(layer_mtime(s), 42);
}

TEST(ImageConfig, EnvMergesBaseFirstLastValueWins) {
  json merged = merge_env(json{"PATH=/bin", "A=1", "B=2"}, json{"A=3", "C=4", "PATH=/usr/bin"});
  EXPECT_EQ(merged, (json{"PATH=/usr/bin", "A=3", "B=2", "C=4"}));
}

TEST(ImageConfig, HistoryAndDiffIdsFollowTheBase) {
  Spec s = parse(R"({"name": "x", "config": {"Cmd": ["/bin/sh"]}})");
  json base = {{"created", "2000-01-01T00:00:00Z"},
               {"config", {{"Env", {"A=1"}}, {"User", "nobody"}}},
               {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:aa"}}}}};
  json c = json::parse(compose_config(base, s, "1970-01-01T00:00:01Z", {"sha256:bb"}, "strata build"));
  EXPECT_EQ(c["rootfs"]["diff_ids"], (json{"sha256:aa", "sha256:bb"}));
  ASSERT_EQ(c["history"].size(), 2u);
  EXPECT_EQ(c["history"][0]["created"], "2000-01-01T00:00:00Z");
  EXPECT_EQ(c["config"]["User"], "nobody");
  EXPECT_EQ(c["config"]["Cmd"], (json{"/bin/sh"}));
  EXPECT_EQ(c["config"]["Env"], (json{"A=1"}));
}

} // namespace
} // namespace strata
