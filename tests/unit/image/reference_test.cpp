#include "image/reference.h"

#include <gtest/gtest.h>
#include <string>

namespace strata {
namespace {

TEST(ImageName, FollowsTheDistributionGrammar) {
  for (const char* good : {"a", "hello", "library/hello-world", "a.b_c__d---e", "localhost/app", "localhost:5000/app",
                           "registry.example.com/team/app", "Registry-1.Example:443/x", "[::1]:5000/x", "[fe80::1]/x",
                           "0/1/2", "x/y.z"})
    EXPECT_EQ(image_name_problem(good), "") << good;
}

TEST(ImageName, RefusesWhatRegistriesRefuse) {
  for (const char* bad : {"", "../../etc/evil", "/abs", "abs/", "a//b", "-a", "a-", "a_", ".a", "a...b", "a___b",
                          "a:b", "a@b", "A", "a b", "a/B", "localhost:port/x", "ex_ample.com/x/", "[zz]:5/x", "a/../b"})
    EXPECT_NE(image_name_problem(bad), "") << bad;
  EXPECT_EQ(image_name_problem(std::string(255, 'a')), "");
  EXPECT_NE(image_name_problem(std::string(256, 'a')).find("more than 255"), std::string::npos);
  EXPECT_NE(image_name_problem("../x").find("'..'"), std::string::npos);
}

TEST(ImageTag, WordCharactersDotsAndDashes) {
  for (const char* good : {"latest", "v1.2.3", "_x", "A-b_c.d", "0"}) EXPECT_TRUE(is_valid_tag(good)) << good;
  for (const char* bad : {"", ".x", "-x", "a:b", "a/b", "a b", "é"}) EXPECT_FALSE(is_valid_tag(bad)) << bad;
  EXPECT_TRUE(is_valid_tag(std::string(128, 't')));
  EXPECT_FALSE(is_valid_tag(std::string(129, 't')));
}

} // namespace
} // namespace strata
