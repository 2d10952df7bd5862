#include "ns/sys/file.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(LexicallyNormalRelative, ResolvesDotsAndClampsAtTheTop) {
  EXPECT_EQ(lexically_normal_relative("a/./b/../c"), "a/c");
  EXPECT_EQ(lexically_normal_relative("/../x"), "x");
  EXPECT_EQ(lexically_normal_relative("a/.."), "");
  EXPECT_EQ(lexically_normal_relative("../../a//b/"), "a/b");
}

TEST(LinkTargetPath, RelativeToTheLinkAbsoluteFromTheRoot) {
  EXPECT_EQ(link_target_path("lib", "usr/lib"), "usr/lib");
  EXPECT_EQ(link_target_path("a/b/link", "../c"), "a/c");
  EXPECT_EQ(link_target_path("a/b/link", "/nix/store/x"), "nix/store/x");
  EXPECT_EQ(link_target_path("a/link", "../../../etc/passwd"), "etc/passwd");
}

} // namespace
} // namespace strata
