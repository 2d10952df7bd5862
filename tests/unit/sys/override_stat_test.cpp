#include "sys/override_stat.h"

#include <gtest/gtest.h>

using namespace strata;

TEST(OverrideStat, EncodesInContainersStorageFormat) {
  EXPECT_EQ(encode_override_stat({0, 0, 0755, OverrideType::Dir}), "0:0:0755:dir");
  EXPECT_EQ(encode_override_stat({1000, 100, 04755, OverrideType::File}), "1000:100:4755:file");
  EXPECT_EQ(encode_override_stat({0, 5, 0620, OverrideType::CharDevice, 136, 3}), "0:5:0620:char-136-3");
  EXPECT_EQ(encode_override_stat({0, 6, 0660, OverrideType::BlockDevice, 8, 1}), "0:6:0660:block-8-1");
  EXPECT_EQ(encode_override_stat({7, 8, 0644, OverrideType::Pipe}), "7:8:0644:pipe");
  EXPECT_EQ(encode_override_stat({7, 8, 0777, OverrideType::Symlink}), "7:8:0777:symlink");
  EXPECT_EQ(encode_override_stat({7, 8, 0600}), "7:8:0600");
}

TEST(OverrideStat, RoundTripsEveryType) {
  for (OverrideType t : {OverrideType::Unspecified, OverrideType::File, OverrideType::Dir, OverrideType::Symlink,
                         OverrideType::Pipe, OverrideType::Socket, OverrideType::BlockDevice,
                         OverrideType::CharDevice}) {
    OverrideStat s{4294967294u, 65534, 07777, t};
    if (t == OverrideType::BlockDevice || t == OverrideType::CharDevice) {
      s.dev_major = 259;
      s.dev_minor = 1048575;
    }
    auto back = decode_override_stat(encode_override_stat(s));
    ASSERT_TRUE(back) << encode_override_stat(s);
    EXPECT_EQ(*back, s) << encode_override_stat(s);
  }
}

TEST(OverrideStat, DecodesWhatOtherWritersProduce) {
  // fuse-overlayfs before 1.15: three fields; mode without leading zero.
  auto three = decode_override_stat("1000:1000:755");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->uid, 1000u);
  EXPECT_EQ(three->mode, 0755u);
  EXPECT_EQ(three->type, OverrideType::Unspecified);
  // A whole st_mode in MODE gives the type.
  auto full = decode_override_stat("0:0:40755");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->mode, 0755u);
  EXPECT_EQ(full->type, OverrideType::Dir);
  // A trailing NUL, and fields past the fourth, are tolerated.
  auto nul = decode_override_stat(std::string_view("1:2:0644:file\0", 14));
  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->type, OverrideType::File);
  auto extra = decode_override_stat("1:2:0644:char-1-3-x:future");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->type, OverrideType::CharDevice);
  EXPECT_EQ(extra->dev_major, 1u);
  EXPECT_EQ(extra->dev_minor, 3u);
}

TEST(OverrideStat, RejectsMalformedValues) {
  for (const char* bad : {"", "0", "0:0", "a:0:0755", "0:b:0755", "0:0:0855", "0:0:0755:fifo", "0:0:0755:char-1",
                          "0:0:0755:block-x-1", "-1:0:0755", "0:0:", "99999999999:0:0644"})
    EXPECT_FALSE(decode_override_stat(bad)) << bad;
}

TEST(RootlessContainers, DecodesUmociResources) {
  // uid 1000 (08 e8 07), gid 1000 (10 e8 07)
  auto both = decode_rootlesscontainers(std::string("\x08\xe8\x07\x10\xe8\x07", 6));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->uid, 1000u);
  EXPECT_EQ(both->gid, 1000u);
  // Empty message: both ids are 0 (proto3 defaults are not encoded).
  auto root = decode_rootlesscontainers("");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  // 0xFFFFFFFF is "no change".
  auto noop = decode_rootlesscontainers(std::string("\x08\xff\xff\xff\xff\x0f\x10\x05", 8));
  ASSERT_TRUE(noop);
  EXPECT_FALSE(noop->uid);
  EXPECT_EQ(noop->gid, 5u);
  // Unknown fields are skipped.
  auto unknown = decode_rootlesscontainers(std::string("\x1a\x02hi\x08\x07", 6));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->uid, 7u);
}

TEST(RootlessContainers, RoundTripsAndRejectsGarbage) {
  for (RootlessOwner o : {RootlessOwner{0, 0}, RootlessOwner{1, std::nullopt}, RootlessOwner{std::nullopt, 300},
                          RootlessOwner{4294967294u, 65536}})
    EXPECT_EQ(decode_rootlesscontainers(encode_rootlesscontainers(o)), o);
  EXPECT_FALSE(decode_rootlesscontainers(std::string("\x08", 1)));                      // truncated varint
  EXPECT_FALSE(decode_rootlesscontainers(std::string("\x08\x80\x80\x80\x80\x10", 6)));  // > 32 bits
  EXPECT_FALSE(decode_rootlesscontainers(std::string("\x0a\x01x", 3)));                 // uid as bytes
  EXPECT_FALSE(decode_rootlesscontainers(std::string("\x1a\x05hi", 4)));                // length past end
  EXPECT_FALSE(decode_rootlesscontainers(std::string("\x0f", 1)));                      // wire type 7
}

TEST(InternalXattrs, AreRecognised) {
  for (const char* n : {"user.containers.override_stat", "user.containers.override_security.capability",
                        "user.overlay.opaque", "trusted.overlay.opaque", "user.rootlesscontainers",
                        "user.fuseoverlayfs.origin"})
    EXPECT_TRUE(is_internal_xattr(n)) << n;
  for (const char* n : {"user.mime_type", "security.capability", "user.rootless", "trusted.foo"})
    EXPECT_FALSE(is_internal_xattr(n)) << n;
}
