#include "image/digest.h"
#include "image/nix/nar.h"
#include "image/nix/nar_hash_text.h"
#include "nix_tool.h"
#include "sys/error.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::nix {
namespace {

using namespace std::string_literals;
using test::quote;
using test::run;
using test::trim;

class NarTest : public ::testing::Test {
protected:
  // What Debian's nix-store says about `path`: sha256 hex and size of `nix-store --dump`.
  static std::pair<std::string, uint64_t> nix_dump_hash(const std::string& path) {
    std::string hex = run("nix-store --dump " + quote(path) + " | sha256sum").substr(0, 64);
    uint64_t size = std::stoull(trim(run("nix-store --dump " + quote(path) + " | wc -c")));
    return {hex, size};
  }

  // Adds `path` to a store under a temp root and asks that store for its hash and size.
  std::pair<std::string, uint64_t> nix_store_add_hash(const std::string& path) {
    std::string store = "local?root=" + root_.path();
    std::string sp = trim(run("nix-store --store " + quote(store) + " --add " + quote(path)));
    std::string hash = trim(run("nix-store --store " + quote(store) + " -q --hash " + quote(sp)));
    uint64_t size = std::stoull(trim(run("nix-store --store " + quote(store) + " -q --size " + quote(sp))));
    return {hash, size};
  }

  void expect_same_as_nix(const std::string& path) {
    SCOPED_TRACE(path);
    NarHash ours = nar_hash(path);
    auto [hex, size] = nix_dump_hash(path);
    EXPECT_EQ(to_hex(ours.sha256), hex);
    EXPECT_EQ(ours.size, size);
    auto [hash_text, store_size] = nix_store_add_hash(path);
    EXPECT_EQ(sha256_base32_text(ours.sha256), hash_text);
    EXPECT_EQ(ours.size, store_size);
  }

  std::string at(const std::string& name) { return src_.path() + "/" + name; }

  test::NixEnvironment env_;
  TempDir src_{"strata-nar-src"};
  TempDir root_{"strata-nar-root"};
};

TEST_F(NarTest, RegularFileBytesEqualNixStoreDump) {
  test::write_mode(at("file"), "hello, nar\n", 0644);
  StringSink ours;
  dump_nar(at("file"), ours);
  EXPECT_EQ(ours.data(), run("nix-store --dump " + quote(at("file"))));
  expect_same_as_nix(at("file"));
}

TEST_F(NarTest, EmptyFile) {
  test::write_mode(at("empty"), "", 0644);
  expect_same_as_nix(at("empty"));
}

TEST_F(NarTest, ExecutableFile) {
  test::write_mode(at("tool"), "#!/bin/sh\necho hi\n", 0755);
  expect_same_as_nix(at("tool"));
  // Only the owner's x bit makes a file executable in a NAR.
  test::write_mode(at("user-x"), "x", 0744);
  test::write_mode(at("all-x"), "x", 0755);
  test::write_mode(at("group-x"), "x", 0654);
  EXPECT_EQ(nar_hash(at("user-x")).sha256, nar_hash(at("all-x")).sha256);
  EXPECT_NE(nar_hash(at("user-x")).sha256, nar_hash(at("group-x")).sha256);
  expect_same_as_nix(at("user-x"));
  expect_same_as_nix(at("group-x"));
}

TEST_F(NarTest, Symlink) {
  ASSERT_EQ(::symlink("../some/where else", at("link").c_str()), 0);
  StringSink ours;
  dump_nar(at("link"), ours);
  EXPECT_EQ(ours.data(), run("nix-store --dump " + quote(at("link"))));
  expect_same_as_nix(at("link"));
}

TEST_F(NarTest, EmptyDirectory) {
  make_dirs(at("empty-dir"));
  expect_same_as_nix(at("empty-dir"));
}

TEST_F(NarTest, NestedTreeWithSpacesAndUtf8Names) {
  std::string t = at("tree");
  make_dirs(t + "/bin");
  make_dirs(t + "/share/doc with space");
  make_dirs(t + "/ünïcødé ☃/deeper/still");
  make_dirs(t + "/empty");
  test::write_mode(t + "/bin/prog", "binary\0data"s, 0555);
  test::write_mode(t + "/share/doc with space/READ ME", "text", 0444);
  test::write_mode(t + "/ünïcødé ☃/deeper/still/файл", "utf-8", 0644);
  test::write_mode(t + "/B-upper-sorts-before-a", "1", 0644);
  test::write_mode(t + "/a", "1234567", 0644);   // 7 bytes: padding
  test::write_mode(t + "/ab", "12345678", 0644); // 8 bytes: none
  ASSERT_EQ(::symlink("bin/prog", (t + "/link").c_str()), 0);
  ASSERT_EQ(::symlink("/absolute/dangling", (t + "/share/dangling").c_str()), 0);
  StringSink ours;
  dump_nar(t, ours);
  EXPECT_EQ(ours.data(), run("nix-store --dump " + quote(t)));
  expect_same_as_nix(t);
}

TEST_F(NarTest, LargeFileStreamsAndMatches) {
  // 100 MiB + 3 bytes, mostly sparse, with data at a few offsets; not a multiple of 8.
  std::string big = at("big");
  {
    Fd fd = open_or_fail(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const off_t size = (100 << 20) + 3;
    ASSERT_EQ(::ftruncate(fd.get(), size), 0);
    for (off_t off : {off_t(0), off_t(4096 * 7 + 5), off_t(50 << 20), size - 10}) {
      ASSERT_EQ(::pwrite(fd.get(), "0123456789", 10, off), 10);
    }
  }
  NarHash ours = nar_hash(big);
  // "nix-archive-1" (8+16), "(" "type" "regular" "contents" (4 x 16), length 8,
  // contents padded to 8, ")" 16.
  EXPECT_EQ(ours.size, 24u + 4 * 16 + 8 + ((100u << 20) + 8) + 16);
  auto [hex, size] = nix_dump_hash(big);
  EXPECT_EQ(to_hex(ours.sha256), hex);
  EXPECT_EQ(ours.size, size);
}

TEST_F(NarTest, RejectsSpecialFiles) {
  ASSERT_EQ(::mkfifo(at("fifo").c_str(), 0644), 0);
  EXPECT_THROW(nar_hash(at("fifo")), InputError);
  make_dirs(at("dir"));
  ASSERT_EQ(::mkfifo(at("dir/fifo").c_str(), 0644), 0);
  try {
    nar_hash(at("dir"));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(at("dir/fifo")), std::string::npos) << e.what();
  }
}

TEST_F(NarTest, MissingPathIsAnError) { EXPECT_THROW(nar_hash(at("nope")), Error); }

// nar_size reads no content, yet must equal the length of the NAR itself (and so
// `nix-store --dump | wc -c`, checked against the same trees above).
TEST_F(NarTest, SizeFromMetadataEqualsTheNarsLength) {
  std::string t = at("tree");
  make_dirs(t + "/bin");
  make_dirs(t + "/share/a name of thirty-three bytes!!");
  make_dirs(t + "/empty");
  test::write_mode(t + "/bin/prog", std::string(1000, 'x'), 0555);
  test::write_mode(t + "/share/a name of thirty-three bytes!!/f", "1234567", 0444);
  test::write_mode(t + "/eight", "12345678", 0644);
  test::write_mode(t + "/none", "", 0644);
  ASSERT_EQ(::symlink("bin/prog", (t + "/link").c_str()), 0);
  ASSERT_EQ(::symlink(std::string(77, 'l').c_str(), (t + "/long-link").c_str()), 0);
  for (const std::string& path : {t, t + "/bin/prog", t + "/link", t + "/empty", t + "/none"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(nar_size(path), nar_hash(path).size);
    EXPECT_EQ(nar_size(path), std::stoull(trim(run("nix-store --dump " + quote(path) + " | wc -c"))));
  }
  EXPECT_EQ(nar_size_of_file(1000, true), nar_size(t + "/bin/prog"));
  EXPECT_EQ(nar_size_of_file(8), nar_size(t + "/eight"));
  EXPECT_EQ(nar_size_of_file(0), nar_size(t + "/none"));
  make_dirs(at("flat"));
  test::write_mode(at("flat/checksum"), std::string(65, 'c'), 0644);
  test::write_mode(at("flat/layer.tar"), std::string(10240, 't'), 0644);
  EXPECT_EQ(nar_size_of_flat_dir({{"checksum", 65}, {"layer.tar", 10240}}), nar_hash(at("flat")).size);
  EXPECT_THROW(nar_size(at("nope")), Error);
}

} // namespace
} // namespace strata::nix
