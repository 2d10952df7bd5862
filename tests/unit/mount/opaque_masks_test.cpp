#include "mount/opaque_masks.h"
#include "mount/stacked_records.h"
#include "sys/files.h"
#include "sys/owner_table.h"
#include "sys/temp.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

using namespace strata;
using namespace strata::mount;

namespace {

bool is_whiteout(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

// Three layers, topmost first: top makes srv/ opaque (its own srv/new), mid and bottom
// have files there; mid's etc/ is opaque too but holds nothing below it.
struct Layers : ::testing::Test {
  TempDir tmp{"opaque-masks-test"};
  std::string top = tmp.path() + "/top", mid = tmp.path() + "/mid", bottom = tmp.path() + "/bottom";
  std::string masks = tmp.path() + "/masks";

  void SetUp() override {
    make_dirs(top + "/srv");
    write_file(top + "/srv/new", "n");
    make_dirs(mid + "/srv/sub");
    write_file(mid + "/srv/old", "o");
    make_dirs(mid + "/etc");
    make_dirs(mid + "/srv/deeper");
    write_file(mid + "/srv/deeper/x", "x");
    make_dirs(bottom + "/srv");
    write_file(bottom + "/srv/older", "o");
    write_file(bottom + "/srv/new", "o");
    make_dirs(masks);
    OwnerTable t;
    t.set_opaque("srv");
    t.set_opaque("srv/deeper"); // under an opaque dir: adds nothing (a mask dir there would clash)
    t.save(owner_table_path(top));
    OwnerTable m;
    m.set_opaque("etc");
    m.save(owner_table_path(mid));
  }
};

} // namespace

TEST_F(Layers, AMaskBelowTheOpaqueLayerWhitesOutWhatTheLayersBelowHave) {
  MaskedLowers out = with_opaque_masks({top, mid, bottom}, masks);
  ASSERT_EQ(out.lower.size(), 4u);
  EXPECT_EQ(out.lower[0], top);
  EXPECT_EQ(out.lower[1], masks + "/0");
  EXPECT_EQ(out.lower[2], mid);
  EXPECT_EQ(out.lower[3], bottom);
  EXPECT_EQ(out.masks, 1u); // mid's etc/ hides nothing: bottom has no etc
  EXPECT_EQ(out.whiteouts, 5u);
  for (const char* name : {"deeper", "new", "old", "older", "sub"})
    EXPECT_TRUE(is_whiteout(masks + "/0/srv/" + name)) << name;
}

TEST_F(Layers, NoOpaqueDirsNoMasks) {
  MaskedLowers out = with_opaque_masks({mid, bottom}, masks);
  EXPECT_EQ(out.lower, (std::vector<std::string>{mid, bottom}));
  EXPECT_EQ(out.masks, 0u);
}

TEST_F(Layers, MergedRecordsAreThoseOfTheTopmostLayerHavingThePath) {
  OwnerTable m;
  m.set_opaque("etc");
  m.set("srv/old", OverrideStat{1005, 1006, 0600});       // hidden by top's opaque srv/
  m.set("etc", OverrideStat{7, 7, 0750});                 // mid's own: shown
  m.save(owner_table_path(mid));
  OwnerTable b;
  b.set("srv/new", OverrideStat{9, 9, 0644});             // under top's opaque srv/
  b.set("f", OverrideStat{9, 9, 0600});                   // top has f too, without a record
  write_file(top + "/f", "t");
  write_file(bottom + "/f", "b");
  b.set("etc/x", OverrideStat{9, 9, 0644});               // under mid's opaque etc/
  b.set("var", OverrideStat{3, 3, 0700});                 // nothing above has var
  b.save(owner_table_path(bottom));
  make_dirs(bottom + "/var");
  make_dirs(bottom + "/etc");
  write_file(bottom + "/etc/x", "x");
  OwnerTable merged = merged_lower_records({top, mid, bottom});
  EXPECT_EQ(merged.find("srv/old"), nullptr);
  EXPECT_EQ(merged.find("srv/new"), nullptr);
  EXPECT_EQ(merged.find("f"), nullptr);
  EXPECT_EQ(merged.find("etc/x"), nullptr);
  ASSERT_NE(merged.find("etc"), nullptr);
  EXPECT_EQ(merged.find("etc")->uid, 7u);
  ASSERT_NE(merged.find("var"), nullptr);
  EXPECT_EQ(merged.find("var")->mode, 0700u);
}
