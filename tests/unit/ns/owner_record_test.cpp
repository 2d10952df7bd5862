#include "ns/owner_record.h"

#include <gtest/gtest.h>

using namespace strata::ns;

TEST(OwnerRecord, EncodesInFuseOverlayfsFormat) {
  EXPECT_EQ(encode_owner_record({1000, 100, 0755, ""}), "1000:100:0755");
  EXPECT_EQ(encode_owner_record({0, 0, 04755, ""}), "0:0:04755");
  EXPECT_EQ(encode_owner_record({0, 6, 0660, "block-8-0"}), "0:6:0660:block-8-0");
}

TEST(OwnerRecord, DecodesWhatItAndOthersWrite) {
  auto r = decode_owner_record("1000:1000:0644");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uid, 1000u);
  EXPECT_EQ(r->gid, 1000u);
  EXPECT_EQ(r->mode, 0644u);
  EXPECT_EQ(r->type, "");
  auto dev = decode_owner_record("0:0:666:char-1-3");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->mode, 0666u);
  EXPECT_EQ(dev->type, "char-1-3");
  // Some writers store the whole st_mode: the type bits are dropped from MODE.
  auto whole = decode_owner_record("5:6:100755");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->mode, 0755u);
}

TEST(OwnerRecord, RejectsMalformedValues) {
  EXPECT_FALSE(decode_owner_record(""));
  EXPECT_FALSE(decode_owner_record("1000:1000"));
  EXPECT_FALSE(decode_owner_record("a:0:0644"));
  EXPECT_FALSE(decode_owner_record("0:0:0789"));
}
