#include "sys/owner_table.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <fcntl.h>
#include <gtest/gtest.h>

using namespace strata;

TEST(OwnerTable, SavesLoadsAndLaterRecordsWin) {
  TempDir dir("owner-table-test");
  std::string file = owner_table_path(dir.path() + "/upper/");
  EXPECT_EQ(file, dir.path() + "/upper.owners");
  EXPECT_TRUE(OwnerTable::load(file).empty()); // missing: empty

  OwnerTable table;
  table.set("", OverrideStat{0, 0, 0755, OverrideType::Dir});
  table.set("dev/null", OverrideStat{0, 0, 0666, OverrideType::CharDevice, 1, 3});
  table.set("home/u", OverrideStat{1000, 1000, 0700});
  table.set_opaque("opt");
  table.save(file);
  {
    Fd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    ASSERT_TRUE(fd);
    OwnerTable::append(fd.get(), "home/u", OverrideStat{1001, 5, 04755});
    OwnerTable::append(fd.get(), "dev/null", std::nullopt);
    OwnerTable::append(fd.get(), "name with\nnewline", OverrideStat{7, 8, 0600});
  }
  OwnerTable back = OwnerTable::load(file);
  ASSERT_TRUE(back.find(""));
  EXPECT_EQ(back.find("")->type, OverrideType::Dir);
  ASSERT_TRUE(back.find("home/u"));
  EXPECT_EQ(*back.find("home/u"), (OverrideStat{1001, 5, 04755}));
  EXPECT_EQ(back.find("dev/null"), nullptr);
  ASSERT_TRUE(back.find("name with\nnewline"));
  EXPECT_TRUE(back.is_opaque("opt"));
  EXPECT_FALSE(back.is_opaque("home/u"));
}

TEST(OwnerTable, ATableCutShortOrMalformedIsAnInputError) {
  TempDir dir("owner-table-test");
  std::string file = dir.path() + "/t.owners";
  write_file(file, std::string("a\0" "0:0:0755", 10));
  EXPECT_THROW(OwnerTable::load(file), InputError);
  write_file(file, std::string("a\0" "zz\0", 5));
  EXPECT_THROW(OwnerTable::load(file), InputError);
}

TEST(OwnerTable, ProbesWhetherUserXattrsCanBeSet) {
  TempDir dir("owner-table-test");
  // This host's TMPDIR holds user xattrs (the suite's unpack tests need them).
  EXPECT_EQ(user_xattrs_refused(dir.path()), std::nullopt);
}

TEST(OwnerTable, EraseTreeForgetsThePathAndWhatIsBelowOnly) {
  OwnerTable table;
  for (const char* p : {"home", "home/u", "home/u/f", "home/uu", "homer", "etc"})
    table.set(p, OverrideStat{1, 2, 0700});
  table.set_opaque("home/u/d");
  table.set_opaque("home/uv");
  table.erase_tree("home/u");
  EXPECT_EQ(table.find("home/u"), nullptr);
  EXPECT_EQ(table.find("home/u/f"), nullptr);
  EXPECT_FALSE(table.is_opaque("home/u/d"));
  EXPECT_NE(table.find("home"), nullptr);
  EXPECT_NE(table.find("home/uu"), nullptr);
  EXPECT_NE(table.find("homer"), nullptr);
  EXPECT_TRUE(table.is_opaque("home/uv"));
  table.erase_tree("");
  EXPECT_TRUE(table.empty());
}

TEST(OwnerTable, XattrsRoundTripWhateverTheirBytes) {
  TempDir dir("owner-table-test");
  const std::string file = dir.path() + "/t.owners";
  const std::string caps("\x01\x00\x00\x02\x00\x20,=\x00", 9);
  OwnerTable table;
  table.set_xattrs("bin/ping", {{"user.b", "x"}, {"security.capability", caps}});
  table.set_xattrs("etc/none", {});
  table.set("bin/ping", OverrideStat{0, 0, 0755});
  table.save(file);
  OwnerTable back = OwnerTable::load(file);
  const Xattrs* x = back.find_xattrs("bin/ping");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(*x, (Xattrs{{"security.capability", caps}, {"user.b", "x"}})); // sorted by name
  EXPECT_EQ(back.find_xattrs("etc/none"), nullptr);
  ASSERT_NE(back.find("bin/ping"), nullptr);
  back.erase_tree("bin");
  EXPECT_EQ(back.find_xattrs("bin/ping"), nullptr);
  write_file(file, std::string("f\0xattrs:7573=zz\0", 17));
  EXPECT_THROW(OwnerTable::load(file), InputError);
}
