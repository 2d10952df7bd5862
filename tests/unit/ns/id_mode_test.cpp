#include "ns/id_mode.h"
#include "sys/error.h"

#include <gtest/gtest.h>
#include <unistd.h>

using namespace strata;
using namespace strata::ns;

TEST(IdMode, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_id_mode("single"), IdMode::Single);
  EXPECT_EQ(parse_id_mode("subuid"), IdMode::Subuid);
  EXPECT_EQ(id_mode_name(IdMode::Fuse), "fuse");
  EXPECT_THROW(parse_id_mode("rootless"), InputError);
}

TEST(IdMode, FindsTheCallersSubordinateRangeByNameOrUid) {
  const char* text = "# comment\nalice:100000:65536\nbob:165536:1000\n1001:300000:10\nbad line\n";
  auto bob = find_subid_range(text, "bob", 1000);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->start, 165536u);
  EXPECT_EQ(bob->count, 1000u);
  auto by_uid = find_subid_range(text, "carol", 1001);
  ASSERT_TRUE(by_uid);
  EXPECT_EQ(by_uid->start, 300000u);
  EXPECT_FALSE(find_subid_range(text, "dave", 1002));
  EXPECT_FALSE(find_subid_range("", "alice", 0));
}

TEST(IdMode, ParsesProcIdMaps) {
  auto ranges = parse_id_map("         0          0 4294967295\n  1 100000 65536\n");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].count, 4294967295u);
  EXPECT_EQ(ranges[1].inside, 1u);
  EXPECT_EQ(ranges[1].outside, 100000u);
}

TEST(IdMode, SingleMapsOnlyTheCallerAndDeniesSetgroups) {
  IdMapPlan plan = plan_id_maps(IdMode::Single);
  EXPECT_EQ(plan.mode, IdMode::Single);
  ASSERT_EQ(plan.uids.size(), 1u);
  EXPECT_EQ(plan.uids[0].inside, 0u);
  EXPECT_EQ(plan.uids[0].outside, ::geteuid());
  EXPECT_EQ(plan.uids[0].count, 1u);
  EXPECT_TRUE(plan.deny_setgroups);
  EXPECT_FALSE(plan.use_newidmap);
}

TEST(IdMode, AutoPicksTheFullMapForRealRoot) {
  if (::geteuid() != 0) {
    EXPECT_THROW(plan_id_maps(IdMode::Root), WorkError);
    return;
  }
  IdMapPlan plan = plan_id_maps(IdMode::Auto);
  EXPECT_EQ(plan.mode, IdMode::Root);
  ASSERT_FALSE(plan.uids.empty());
  EXPECT_EQ(plan.uids[0].inside, plan.uids[0].outside);
  EXPECT_GT(plan.uids[0].count, 65536u);
}
