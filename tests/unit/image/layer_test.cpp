// The layer writer and tree walker, read back with libarchive.
#include "image/layer_reader.h"
#include "image/layer_writer.h"
#include "image/tree_source.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {
namespace {

struct ReadEntry {
  std::string path, link, hardlink, uname, data;
  mode_t mode;
  int64_t uid, gid, mtime, size;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

std::vector<ReadEntry> read_tar(const std::string& bytes) {
  std::vector<ReadEntry> out;
  archive* a = archive_read_new();
  support_layer_compressions(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    ReadEntry r;
    r.path = archive_entry_pathname(e);
    r.link = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
    r.hardlink = archive_entry_hardlink(e) ? archive_entry_hardlink(e) : "";
    r.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
    r.mode = archive_entry_mode(e);
    r.uid = archive_entry_uid(e);
    r.gid = archive_entry_gid(e);
    r.mtime = archive_entry_mtime(e);
    r.size = archive_entry_size(e);
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
      r.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) r.data.append(buf, static_cast<size_t>(n));
    out.push_back(r);
  }
  archive_read_free(a);
  return out;
}

LayerDigests write(const EntryProducer& produce, std::string& out, Compression c = Compression::None) {
  StringSink sink;
  LayerDigests d = write_layer(produce, c, sink);
  out = sink.data();
  return d;
}

TEST(LayerWriter, WritesEntriesAndDigestsInOnePass) {
  std::string tar;
  LayerDigests d = write(
      [](const EntryVisitor& visit) {
        LayerEntry dir;
        dir.path = "etc";
        dir.type = EntryType::Directory;
        dir.mode = 0755;
        visit(dir);
        LayerEntry f;
        f.path = "etc/" + std::string(180, 'x');
        f.inline_data = "content";
        f.size = 7;
        f.mode = 04755;
        f.owner = {1000, 100, "user", "users"};
        f.mtime = 12345;
        f.xattrs = {{"security.capability", std::string("\x01\x02", 2)}};
        visit(f);
        LayerEntry l;
        l.path = "etc/link";
        l.type = EntryType::Symlink;
        l.link_target = "../target";
        visit(l);
        LayerEntry h;
        h.path = "etc/hard";
        h.type = EntryType::Hardlink;
        h.link_target = f.path;
        visit(h);
        LayerEntry wh;
        wh.path = "etc/.wh.gone";
        visit(wh);
      },
      tar);
  EXPECT_EQ(d.diff_id, d.digest); // uncompressed
  EXPECT_EQ(d.diff_id, "sha256:" + sha256_hex(tar));
  EXPECT_EQ(d.size, tar.size());
  EXPECT_EQ(d.entries, 5u);
  auto entries = read_tar(tar);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].path, "etc/");
  EXPECT_TRUE(S_ISDIR(entries[0].mode));
  EXPECT_EQ(entries[1].path, "etc/" + std::string(180, 'x'));
  EXPECT_EQ(entries[1].data, "content");
  EXPECT_EQ(entries[1].mode & 07777, 04755u);
  EXPECT_EQ(entries[1].uid, 1000);
  EXPECT_EQ(entries[1].gid, 100);
  EXPECT_EQ(entries[1].uname, "user");
  EXPECT_EQ(entries[1].mtime, 12345);
  // libarchive writes each xattr as both SCHILY.xattr (what Go and GNU tar read) and
  // LIBARCHIVE.xattr, and reads both back.
  ASSERT_FALSE(entries[1].xattrs.empty());
  for (const auto& [name, value] : entries[1].xattrs) {
    EXPECT_EQ(name, "security.capability");
    EXPECT_EQ(value, std::string("\x01\x02", 2));
  }
  EXPECT_EQ(entries[2].link, "../target");
  EXPECT_EQ(entries[3].hardlink, entries[1].path);
  EXPECT_EQ(entries[4].path, "etc/.wh.gone");
  EXPECT_EQ(entries[4].size, 0);
}

TEST(LayerWriter, CompressedDigestsDiffer) {
  std::string gz;
  LayerDigests d = write(
      [](const EntryVisitor& visit) {
        LayerEntry f;
        f.path = "a";
        f.inline_data = std::string(100000, 'a');
        f.size = f.inline_data.size();
        visit(f);
      },
      gz, Compression::Gzip);
  EXPECT_NE(d.diff_id, d.digest);
  EXPECT_EQ(d.digest, "sha256:" + sha256_hex(gz));
  EXPECT_LT(d.size, d.uncompressed_size);
  auto entries = read_tar(gz);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].data.size(), 100000u);
}

class TreeTest : public ::testing::Test {
protected:
  TempDir dir{"strata-tree-test"};
  std::string p(const std::string& rel) { return dir.path() + "/" + rel; }
  void file(const std::string& rel, const std::string& content, mode_t mode = 0644) {
    make_dirs(dirname_of(p(rel)));
    write_file(p(rel), content);
    ::chmod(p(rel).c_str(), mode);
  }
  std::vector<LayerEntry> walk(const std::vector<TreeMapping>& m, TreeOptions options = {}) {
    std::vector<LayerEntry> out;
    walk_trees(m, options, [&](LayerEntry& e) {
      LayerEntry copy = e;
      copy.content_fd = -1;
      if (e.type == EntryType::File && e.size > 0) {
        copy.inline_data.resize(e.size);
        EXPECT_EQ(::pread(e.content_fd, copy.inline_data.data(), e.size, 0), static_cast<ssize_t>(e.size));
      }
      out.push_back(copy);
    });
    return out;
  }
  static std::vector<std::string> paths(const std::vector<LayerEntry>& es) {
    std::vector<std::string> out;
    for (const auto& e : es) out.push_back(e.path);
    return out;
  }
};

TEST_F(TreeTest, SortsEachDirectoryBytewiseParentsFirst) {
  file("a/b/c", "1");
  file("a-b", "2");
  file("B", "3");
  file("a/a", "4");
  auto es = walk({{p(""), ""}});
  EXPECT_EQ(paths(es), (std::vector<std::string>{"B", "a", "a/a", "a/b", "a/b/c", "a-b"}));
}

TEST_F(TreeTest, MergesTreesLaterWinsDirectoriesMerge) {
  file("one/etc/a", "from one");
  file("one/etc/same", "one");
  file("two/etc/b", "from two");
  file("two/etc/same", "two");
  auto es = walk({{p("one"), ""}, {p("two"), ""}});
  EXPECT_EQ(paths(es), (std::vector<std::string>{"etc", "etc/a", "etc/b", "etc/same"}));
  EXPECT_EQ(es[3].inline_data, "two");
}

TEST_F(TreeTest, MapsPathsUnderSynthesizedParentsWithFixedOwner) {
  file("store/abc-foo/bin/foo", "foo", 0555);
  TreeOptions o;
  o.owner = Owner{0, 0, "root", "root"};
  o.mtime = 7;
  auto es = walk({{p("store/abc-foo"), "nix/store/abc-foo"}}, o);
  EXPECT_EQ(paths(es), (std::vector<std::string>{"nix", "nix/store", "nix/store/abc-foo", "nix/store/abc-foo/bin",
                                                 "nix/store/abc-foo/bin/foo"}));
  EXPECT_EQ(es[0].mode, 0755u);
  EXPECT_EQ(es[4].mode, 0555u);
  for (const auto& e : es) {
    EXPECT_EQ(e.owner.uname, "root");
    EXPECT_EQ(e.mtime, 7);
  }
}

TEST_F(TreeTest, HardLinksBecomeLinksToTheFirstPath) {
  file("x/a", "data");
  ASSERT_EQ(::link(p("x/a").c_str(), p("x/b").c_str()), 0);
  auto es = walk({{p("x"), ""}});
  ASSERT_EQ(es.size(), 2u);
  EXPECT_EQ(es[0].type, EntryType::File);
  EXPECT_EQ(es[1].type, EntryType::Hardlink);
  EXPECT_EQ(es[1].link_target, "a");
}

TEST_F(TreeTest, ExcludeSkipsEntriesButDescendsDirectories) {
  file("r/etc/passwd", "x");
  file("r/etc/new", "y");
  TreeOptions o;
  o.exclude = [](const std::string& path) { return path == "etc" || path == "etc/passwd"; };
  EXPECT_EQ(paths(walk({{p("r"), ""}}, o)), (std::vector<std::string>{"etc/new"}));
}

TEST_F(TreeTest, KeepDirlinksMergesADirectoryThroughALink) {
  file("one/usr/lib/a", "a");
  ASSERT_EQ(::symlink("usr/lib", p("one/lib").c_str()), 0);
  file("two/lib/b", "b");
  TreeOptions keep;
  keep.keep_dirlinks = true;
  auto es = walk({{p("one"), ""}, {p("two"), ""}}, keep);
  EXPECT_EQ(paths(es), (std::vector<std::string>{"lib", "usr", "usr/lib", "usr/lib/a", "usr/lib/b"}));
  EXPECT_EQ(es[0].type, EntryType::Symlink);
  EXPECT_EQ(es[4].inline_data, "b");
  // rsync -a without --keep-dirlinks: the directory replaces the link.
  EXPECT_EQ(paths(walk({{p("one"), ""}, {p("two"), ""}})),
            (std::vector<std::string>{"lib", "lib/b", "usr", "usr/lib", "usr/lib/a"}));
}

TEST_F(TreeTest, SymlinksAreStoredNotFollowed) {
  make_dirs(p("s"));
  ASSERT_EQ(::symlink("/etc/passwd", p("s/l").c_str()), 0);
  auto es = walk({{p("s"), ""}});
  ASSERT_EQ(es.size(), 1u);
  EXPECT_EQ(es[0].type, EntryType::Symlink);
  EXPECT_EQ(es[0].link_target, "/etc/passwd");
}

} // namespace
} // namespace strata
