#include "image/dockertools/merge_images.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

LayerDescriptor layer(char c) {
  LayerDescriptor d;
  d.digest = "sha256:" + std::string(64, c);
  d.diff_id = d.digest;
  return d;
}

MergeInput image(const std::string& config, std::vector<char> layers, std::vector<std::string> tags,
                 const std::string& input) {
  MergeInput m{{config, {}, std::move(tags)}, input};
  for (char c : layers) m.image.layers.push_back(layer(c));
  return m;
}

std::vector<std::vector<std::string>> tags_of(const std::vector<ArchivedImage>& entries) {
  std::vector<std::vector<std::string>> tags;
  for (const auto& e : entries) tags.push_back(e.repo_tags);
  return tags;
}

TEST(PlanMergedManifest, KeepsEveryImageAndItsTagsInInputOrder) {
  std::vector<std::string> warnings;
  auto entries = plan_merged_manifest({image("{\"a\":1}", {'a'}, {"a:1", "a:latest"}, "a.tar"),
                                       image("{\"b\":1}", {'a', 'b'}, {"b:2"}, "b.tar")},
                                      [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(tags_of(entries), (std::vector<std::vector<std::string>>{{"a:1", "a:latest"}, {"b:2"}}));
  ASSERT_EQ(entries[1].layers.size(), 2u);
  EXPECT_EQ(entries[1].layers[0].digest, layer('a').digest);
  EXPECT_TRUE(warnings.empty());
}

TEST(PlanMergedManifest, ATagOnTwoImagesStaysWithTheLater) {
  std::vector<std::string> warnings;
  auto entries = plan_merged_manifest({image("{\"a\":1}", {'a'}, {"x:1", "a:1"}, "a.tar"),
                                       image("{\"b\":1}", {'b'}, {"x:1"}, "b.tar")},
                                      [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(tags_of(entries), (std::vector<std::vector<std::string>>{{"a:1"}, {"x:1"}}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("x:1"), std::string::npos);
  EXPECT_NE(warnings[0].find("the later (b.tar)"), std::string::npos);
}

TEST(PlanMergedManifest, AnImageLeftWithoutTagsIsKeptUntaggedAndSaidSo) {
  std::vector<std::string> warnings;
  auto entries = plan_merged_manifest({image("{\"a\":1}", {'a'}, {"x:1"}, "a.tar"),
                                       image("{\"b\":1}", {'b'}, {"x:1"}, "b.tar")},
                                      [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(tags_of(entries), (std::vector<std::vector<std::string>>{{}, {"x:1"}}));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[1].find("a.tar"), std::string::npos);
  EXPECT_NE(warnings[1].find("untagged"), std::string::npos);
}

TEST(PlanMergedManifest, TheSameImageTwiceIsListedOnceWithEveryTag) {
  auto entries = plan_merged_manifest({image("{\"a\":1}", {'a'}, {"a:1"}, "a.tar"),
                                       image("{\"a\":1}", {'a'}, {"a:2", "a:1"}, "a-again.tar")},
                                      nullptr);
  EXPECT_EQ(tags_of(entries), (std::vector<std::vector<std::string>>{{"a:1", "a:2"}}));
}

TEST(PlanMergedManifest, TheSameConfigOverOtherLayerBlobsIsAnotherEntry) {
  // a config whose layers were stored compressed in one input and plain in another
  auto entries = plan_merged_manifest({image("{\"a\":1}", {'a'}, {"a:1"}, "a.tar"),
                                       image("{\"a\":1}", {'c'}, {"a:gz"}, "a-gz.tar")},
                                      nullptr);
  EXPECT_EQ(tags_of(entries), (std::vector<std::vector<std::string>>{{"a:1"}, {"a:gz"}}));
}

} // namespace
} // namespace strata
