#include "mount/diff.h"
#include "sys/override_stat.h"
#include "sys/owner_table.h"
#include "mount/rooted_fs.h"
#include "mount/unpack.h"
#include "sys/error.h"
#include "sys/temp.h"
#include "tar_maker.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

using namespace strata;
using namespace strata::mount;
using namespace strata::mount::test;

namespace {

std::string type_name(EntryType t) {
  switch (t) {
  case EntryType::File: return "file";
  case EntryType::Directory: return "dir";
  case EntryType::Symlink: return "symlink";
  case EntryType::Hardlink: return "hardlink";
  case EntryType::CharDevice: return "char";
  case EntryType::BlockDevice: return "block";
  case EntryType::Fifo: return "fifo";
  }
  return "?";
}

std::string xattrs_text(std::vector<std::pair<std::string, std::string>> x) {
  std::sort(x.begin(), x.end());
  std::string out;
  for (auto& [k, v] : x) out += k + "=" + v + ";";
  return out;
}

// One line per entry with everything a layer keeps (but the mtime).
std::string describe(const Member& m) {
  std::string type = m.type == 'f' ? "file" : m.type == 'd' ? "dir" : m.type == 'l' ? "symlink"
                   : m.type == 'h' ? "hardlink" : m.type == 'c' ? "char" : m.type == 'b' ? "block" : "fifo";
  uint32_t mode = m.type == 'l' ? 0777 : m.mode;
  return fmt::format("{} {} {:04o} {}:{} link={} dev={},{} size={} data={} xattrs={}", m.name, type, mode,
                     m.uid, m.gid, m.link, m.major, m.minor, m.type == 'f' ? m.data.size() : 0,
                     m.type == 'f' ? m.data : "", xattrs_text(m.xattrs));
}

std::string describe(const LayerEntry& e) {
  std::string data;
  if (e.type == EntryType::File && e.size > 0) {
    data.resize(e.size);
    if (e.content_fd < 0 || ::pread(e.content_fd, data.data(), e.size, 0) != static_cast<ssize_t>(e.size))
      data = "<unreadable>";
  }
  return fmt::format("{} {} {:04o} {}:{} link={} dev={},{} size={} data={} xattrs={}", e.path, type_name(e.type), e.mode,
                     e.owner.uid, e.owner.gid, e.link_target, e.dev_major, e.dev_minor, e.size, data,
                     xattrs_text(e.xattrs));
}

std::vector<std::string> diff_lines(const std::string& dir, const DiffOptions& options = {}) {
  std::vector<std::string> out;
  walk_diff(dir, options, [&](LayerEntry& e) {
    EXPECT_EQ(e.mtime, options.mtime);
    out.push_back(describe(e));
  });
  return out;
}

// A layer in the order walk_diff gives (bytewise per directory, the opaque marker right
// after its directory) with everything a layer can hold.
std::vector<Member> rich_layer() {
  auto with_xattrs = [](Member m, std::vector<std::pair<std::string, std::string>> x) {
    m.xattrs = std::move(x);
    return m;
  };
  Member wh = tar_file("etc/.wh.shadow", "", 0600);
  Member opq = tar_file("opt/.wh..wh..opq", "", 0750, 0, 10);
  return {
      tar_dir("bin"),
      tar_file("bin/a", "same inode", 0755),
      [] { Member h = tar_hardlink("bin/b", "bin/a"); h.mode = 0755; return h; }(),
      with_xattrs(tar_file("bin/ping", "ping", 0755), {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20)}}),
      tar_file("bin/su", "su", 04755),
      tar_symlink("bin/sym", "../etc/passwd"),
      tar_dir("dev"),
      tar_device("dev/fifo", 'p', 0, 0, 0644),
      tar_device("dev/null", 'c', 1, 3, 0666),
      tar_device("dev/sda", 'b', 8, 0, 0660),
      tar_dir("etc", 0755),
      wh,
      tar_file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644),
      tar_dir("home", 0755),
      tar_dir("home/user", 0700, 1000, 1000),
      with_xattrs(tar_file("home/user/notes", "mine", 0600, 1000, 1000), {{"user.mime", "text/plain"}}),
      tar_dir("locked", 0000),
      tar_file("locked/inside", "x", 0400),
      tar_dir("opt", 0750, 0, 10),
      opq,
      tar_file("opt/new", "n", 0644),
      tar_dir("tmp", 01777),
  };
}

std::vector<std::string> expected_lines(const std::vector<Member>& members) {
  std::vector<std::string> out;
  for (const Member& m : members) out.push_back(describe(m));
  return out;
}

std::string compare(const std::vector<std::string>& want, const std::vector<std::string>& got) {
  std::string out;
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    std::string w = i < want.size() ? want[i] : "<none>", g = i < got.size() ? got[i] : "<none>";
    if (w != g) out += "\n want " + w + "\n  got " + g;
  }
  return out;
}

struct DiffTest : ::testing::Test {
  TempDir tmp{"diff-test"};
  std::string layer = tmp.path() + "/layer";
  void SetUp() override {
    make_dirs(layer);
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  }
  void TearDown() override {
    Fd parent = open_or_fail(tmp.path(), O_RDONLY | O_DIRECTORY);
    remove_tree_at(parent.get(), "layer", layer);
  }
  void unpack(const std::vector<Member>& members, const UnpackOptions& o = {}) {
    LayerInput in = bytes_input(make_tar(members));
    unpack_layer_dir(in, layer, o);
  }
};

TEST_F(DiffTest, RoundTripAsRoot) {
  unpack(rich_layer());
  EXPECT_EQ(compare(expected_lines(rich_layer()), diff_lines(layer)), "");
}

TEST_F(DiffTest, RoundTripWithEverythingRecorded) {
  UnpackOptions o;
  o.owners = OwnerPolicy::Record;
  unpack(rich_layer(), o);
  // Symlinks cannot carry the record: on disk they are root's, which is also their owner.
  EXPECT_EQ(compare(expected_lines(rich_layer()), diff_lines(layer)), "");
}

TEST_F(DiffTest, RoundTripAsAnUnprivilegedUser) {
  ASSERT_EQ(::chown(layer.c_str(), 65534, 65534), 0);
  std::string tar = make_tar(rich_layer());
  std::string result = as_unprivileged([&] {
    LayerInput in = bytes_input(tar);
    unpack_layer_dir(in, layer);
    DiffOptions d;
    d.id_map = IdMapping::single(65534, 65534); // what is ours on disk is root's in the layer
    return compare(expected_lines(rich_layer()), diff_lines(layer, d));
  });
  EXPECT_EQ(result, "");
}

TEST_F(DiffTest, RoundTripInASingleIdUserNamespace) {
  ASSERT_EQ(::chown(layer.c_str(), 65534, 65534), 0);
  std::string tar = make_tar(rich_layer());
  std::string result = as_unprivileged(
      [&] {
        LayerInput in = bytes_input(tar);
        UnpackStats s = unpack_layer_dir(in, layer);
        if (s.whiteouts != 1) return std::string("no whiteout device in the user namespace");
        return compare(expected_lines(rich_layer()), diff_lines(layer));
      },
      true);
  EXPECT_EQ(result, "");
  // Seen from outside, the same tree reads back through the map.
  DiffOptions d;
  d.id_map = IdMapping::single(65534, 65534);
  EXPECT_EQ(compare(expected_lines(rich_layer()), diff_lines(layer, d)), "");
}

// Where user xattrs are refused (a Nix build), the records go to an owner table beside
// the layer dir, the layer's xattrs too: the same layer comes back, and nothing is left
// in an xattr.
TEST_F(DiffTest, RoundTripWithAnOwnerTableAsAnUnprivilegedUser) {
  ASSERT_EQ(::chown(layer.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chown(tmp.path().c_str(), 65534, 65534), 0);
  std::string tar = make_tar(rich_layer());
  std::string result = as_unprivileged([&] {
    LayerInput in = bytes_input(tar);
    UnpackOptions o;
    o.owner_table = true;
    UnpackStats s = unpack_layer_dir(in, layer, o);
    if (s.recorded == 0 || s.opaque_dirs != 1) return std::string("nothing recorded");
    char buf[256];
    if (::getxattr((layer + "/home/user").c_str(), kOverrideStatXattr, buf, sizeof buf) >= 0 ||
        ::getxattr((layer + "/opt").c_str(), kUserOpaqueXattr, buf, sizeof buf) >= 0)
      return std::string("a record went to an xattr");
    OwnerTable table = OwnerTable::load(owner_table_path(layer));
    if (!table.find("home/user") || table.find("home/user")->uid != 1000 || !table.is_opaque("opt"))
      return std::string("the table lacks home/user or opt");
    const Xattrs* caps = table.find_xattrs("bin/ping");
    if (!caps || caps->size() != 1 || (*caps)[0].first != "security.capability" || !table.find_xattrs("home/user/notes"))
      return std::string("the table lacks the xattrs of bin/ping or home/user/notes");
    if (::getxattr((layer + "/home/user/notes").c_str(), "user.mime", buf, sizeof buf) >= 0)
      return std::string("an xattr was set where the table holds them");
    DiffOptions d;
    d.id_map = IdMapping::single(65534, 65534);
    d.owner_table = &table;
    return compare(expected_lines(rich_layer()), diff_lines(layer, d));
  });
  EXPECT_EQ(result, "");
}

TEST_F(DiffTest, MtimeAndOwnerNamesComeFromTheOptions) {
  unpack({tar_file("f", "x", 0644, 1000, 0)});
  DiffOptions d;
  d.mtime = 42;
  std::vector<LayerEntry> seen;
  walk_diff(layer, d, [&](LayerEntry& e) { seen.push_back(e); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].mtime, 42);
  EXPECT_EQ(seen[0].owner.uname, "");
  EXPECT_EQ(seen[0].owner.gname, "root");
  d.owner_names = [](uint32_t uid, uint32_t) { return Owner{0, 0, uid == 1000 ? "alice" : "?", "wheel"}; };
  seen.clear();
  walk_diff(layer, d, [&](LayerEntry& e) { seen.push_back(e); });
  EXPECT_EQ(seen[0].owner.uname, "alice");
  EXPECT_EQ(seen[0].owner.uid, 1000u);
}

TEST_F(DiffTest, OwnersFromUmociRecordsAndTheIdMap) {
  write_file(layer + "/umoci", "u");
  write_file(layer + "/both", "b");
  write_file(layer + "/plain", "p");
  write_file(layer + "/noop", "n");
  ASSERT_EQ(::chown((layer + "/plain").c_str(), 100123, 100007), 0);
  ASSERT_EQ(::chown((layer + "/noop").c_str(), 100005, 100006), 0);
  std::string r = encode_rootlesscontainers({1000, 50});
  ASSERT_EQ(::setxattr((layer + "/umoci").c_str(), kRootlessXattr, r.data(), r.size(), 0), 0);
  ASSERT_EQ(::setxattr((layer + "/both").c_str(), kRootlessXattr, r.data(), r.size(), 0), 0);
  std::string o = "7:8:0600:file";
  ASSERT_EQ(::setxattr((layer + "/both").c_str(), kOverrideStatXattr, o.data(), o.size(), 0), 0);
  std::string keep = encode_rootlesscontainers({std::nullopt, 9});
  ASSERT_EQ(::setxattr((layer + "/noop").c_str(), kRootlessXattr, keep.data(), keep.size(), 0), 0);
  DiffOptions d;
  d.id_map.uids = {{0, 100000, 65536}};
  d.id_map.gids = {{0, 100000, 65536}};
  std::map<std::string, LayerEntry> got;
  walk_diff(layer, d, [&](LayerEntry& e) { got[e.path] = e; });
  EXPECT_EQ(got["umoci"].owner.uid, 1000u);
  EXPECT_EQ(got["umoci"].owner.gid, 50u);
  EXPECT_EQ(got["both"].owner.uid, 7u) << "override_stat comes first";
  EXPECT_EQ(got["both"].mode, 0600u);
  EXPECT_EQ(got["plain"].owner.uid, 123u);
  EXPECT_EQ(got["plain"].owner.gid, 7u);
  EXPECT_EQ(got["noop"].owner.uid, 5u) << "0xFFFFFFFF keeps the owner on disk";
  EXPECT_EQ(got["noop"].owner.gid, 9u);
  EXPECT_TRUE(got["umoci"].xattrs.empty()) << "bookkeeping never reaches the layer";
  EXPECT_TRUE(got["both"].xattrs.empty());
}

TEST_F(DiffTest, IdsOutsideTheMapBecomeTheOverflowId) {
  write_file(layer + "/f", "");
  ASSERT_EQ(::chown((layer + "/f").c_str(), 5, 5), 0);
  DiffOptions d;
  d.id_map = IdMapping::single(1000, 1000);
  std::vector<LayerEntry> seen;
  walk_diff(layer, d, [&](LayerEntry& e) { seen.push_back(e); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].owner.uid, 65534u);
}

TEST_F(DiffTest, OrderIsBytewisePerDirectoryParentsFirst) {
  unpack({tar_dir("a"), tar_file("a/z", ""), tar_file("a-b", ""), tar_file("B", ""), tar_file("a/.wh.y", ""),
          tar_file("_", "")});
  std::vector<std::string> paths;
  walk_diff(layer, {}, [&](LayerEntry& e) { paths.push_back(e.path); });
  EXPECT_EQ(paths, (std::vector<std::string>{"B", "_", "a", "a/.wh.y", "a/z", "a-b"}));
}

TEST_F(DiffTest, ContentFdIsClosedAfterTheVisitor) {
  unpack({tar_file("a", "1"), tar_file("b", "2"), tar_file("c", "3")});
  std::vector<int> fds;
  walk_diff(layer, {}, [&](LayerEntry& e) { fds.push_back(e.content_fd); });
  ASSERT_EQ(fds.size(), 3u);
  for (int fd : fds) EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "fd " << fd << " still open";
}

TEST_F(DiffTest, OverlayRedirectsAndMetacopyAreRefused) {
  make_dirs(layer + "/moved");
  ASSERT_EQ(::setxattr((layer + "/moved").c_str(), "trusted.overlay.redirect", "/old", 4, 0), 0);
  EXPECT_THROW(walk_diff(layer, {}, [](LayerEntry&) {}), WorkError);
  ::removexattr((layer + "/moved").c_str(), "trusted.overlay.redirect");
  write_file(layer + "/meta", "");
  ASSERT_EQ(::setxattr((layer + "/meta").c_str(), "user.overlay.metacopy", "", 0, 0), 0);
  EXPECT_THROW(walk_diff(layer, {}, [](LayerEntry&) {}), WorkError);
}

TEST_F(DiffTest, MalformedRecordsAreInputErrors) {
  write_file(layer + "/f", "");
  ASSERT_EQ(::setxattr((layer + "/f").c_str(), kOverrideStatXattr, "garbage", 7, 0), 0);
  EXPECT_THROW(walk_diff(layer, {}, [](LayerEntry&) {}), InputError);
}

// The upper dir a real kernel overlay (userxattr, in a user namespace, as the sandbox
// mounts it) leaves after a removal, a replaced directory and a new file.
TEST_F(DiffTest, ReadsARealOverlayUpperDir) {
  std::string lower = tmp.path() + "/lower", upper = tmp.path() + "/upper", work = tmp.path() + "/work",
              merged = tmp.path() + "/merged";
  for (const std::string& d : {lower, upper, work, merged}) {
    make_dirs(d);
    ASSERT_EQ(::chown(d.c_str(), 65534, 65534), 0);
  }
  ASSERT_EQ(::chown(layer.c_str(), 65534, 65534), 0);
  std::string tar = make_tar({tar_dir("etc"), tar_file("etc/passwd", "p"), tar_file("etc/group", "g"), tar_dir("var"),
                              tar_dir("var/cache"), tar_file("var/cache/old", "o")});
  std::string result = as_unprivileged(
      [&] {
        LayerInput in = bytes_input(tar);
        unpack_layer_dir(in, lower);
        if (::unshare(CLONE_NEWNS) < 0) return std::string("unshare(CLONE_NEWNS) failed");
        std::string opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + ",userxattr";
        if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) < 0)
          return "mount overlay: " + std::string(std::strerror(errno));
        if (::unlink((merged + "/etc/passwd").c_str()) < 0) return std::string("unlink failed");
        Fd m = open_or_fail(merged, O_RDONLY | O_DIRECTORY);
        remove_tree_at(m.get(), "var/cache", "var/cache");
        make_dirs(merged + "/var/cache");
        write_file(merged + "/var/cache/new", "n");
        ::umount(merged.c_str());
        return std::string();
      },
      true);
  ASSERT_EQ(result, "");
  DiffOptions d;
  d.id_map = IdMapping::single(65534, 65534);
  std::vector<std::string> got;
  walk_diff(upper, d, [&](LayerEntry& e) {
    got.push_back(fmt::format("{} {} {:o} {}:{}", e.path, type_name(e.type), e.mode, e.owner.uid, e.owner.gid));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"etc dir 755 0:0", "etc/.wh.passwd file 600 0:0", "var dir 755 0:0",
                                           "var/cache dir 755 0:0", "var/cache/.wh..wh..opq file 755 0:0",
                                           "var/cache/new file 644 0:0"}));
}

} // namespace
