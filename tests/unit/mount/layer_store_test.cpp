#include "mount/layer_store.h"
#include "sys/override_stat.h"
#include "image/digest.h"
#include "sys/error.h"
#include "sys/temp.h"
#include "tar_maker.h"

#include <cstring>
#include <dirent.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>

using namespace strata;
using namespace strata::mount;
using namespace strata::mount::test;

namespace {

bool stats_are_zero(const UnpackStats& s) {
  UnpackStats zero;
  return std::memcmp(&s, &zero, sizeof s) == 0;
}

struct LayerStoreTest : ::testing::Test {
  TempDir tmp{"layer-store-test"};
  std::string store_dir = tmp.path() + "/store";
  std::string layer1 = make_tar({tar_dir("etc"), tar_file("etc/motd", "hello\n", 0644, 1000, 1000),
                                 tar_file("etc/gone", "x"), tar_symlink("etc/link", "motd")});
  std::string layer2 = make_tar({tar_dir("etc"), tar_file("etc/.wh.gone", ""), tar_file("etc/new", "new\n", 0600)});

  // A docker-archive holding the layers; `claimed` overrides the config's diff_ids.
  std::string write_image(const std::vector<std::string>& layers, std::vector<std::string> claimed = {}) {
    std::vector<Member> members;
    nlohmann::json manifest_layers = nlohmann::json::array();
    nlohmann::json diff_ids = nlohmann::json::array();
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string dir = "l" + std::to_string(i);
      members.push_back(tar_dir(dir));
      members.push_back(tar_file(dir + "/layer.tar", layers[i]));
      manifest_layers.push_back(dir + "/layer.tar");
      diff_ids.push_back(i < claimed.size() ? claimed[i] : sha256_digest(layers[i]));
    }
    nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", nlohmann::json::object()},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    members.push_back(tar_file("config.json", config.dump()));
    nlohmann::json manifest = nlohmann::json::array(
        {{{"Config", "config.json"}, {"RepoTags", {"test:latest"}}, {"Layers", manifest_layers}}});
    members.push_back(tar_file("manifest.json", manifest.dump()));
    std::string path = tmp.path() + "/image" + std::to_string(images_++) + ".tar";
    write_file(path, make_tar(members));
    return path;
  }

  std::vector<std::string> store_listing() const {
    std::vector<std::string> names;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(store_dir.c_str()), ::closedir);
    if (!d) return names;
    while (dirent* e = ::readdir(d.get())) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && n != ".lock") names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  int images_ = 0;
};

TEST_F(LayerStoreTest, FirstEnsureUnpacksSecondIsAHitWithZeroStats) {
  auto image = ImageSource::open(write_image({layer1, layer2}));
  LayerStore store(store_dir);

  UnpackStats first;
  std::string dir1 = store.ensure(*image, 0, &first);
  std::string dir2 = store.ensure(*image, 1, &first);
  EXPECT_EQ(dir1, store_dir + "/" + digest_hex(sha256_digest(layer1)));
  EXPECT_EQ(dir2, store.path_for(sha256_digest(layer2)));
  EXPECT_EQ(first.entries, 7u);
  EXPECT_EQ(first.files, 3u); // the whiteout is not a file
  EXPECT_EQ(first.whiteouts + first.whiteout_files, 1u);
  EXPECT_EQ(read_file(dir1 + "/etc/motd"), "hello\n");
  EXPECT_EQ(read_file(dir2 + "/etc/new"), "new\n");
  EXPECT_FALSE(exists(dir2 + "/etc/motd")); // a layer dir holds its own layer only
  // The whiteout stays a marker for overlay: a 0:0 char device, or a .wh. file.
  EXPECT_TRUE(exists(dir2 + "/etc/gone") || exists(dir2 + "/etc/.wh.gone"));

  // Same layers again, even through another image file naming them: nothing unpacked.
  auto again = ImageSource::open(write_image({layer1, layer2}));
  UnpackStats second;
  EXPECT_EQ(store.ensure(*again, 0, &second), dir1);
  EXPECT_EQ(store.ensure(*again, 1, &second), dir2);
  EXPECT_TRUE(stats_are_zero(second));
  std::vector<std::string> layer_dirs{basename_of(dir1), basename_of(dir2)};
  std::sort(layer_dirs.begin(), layer_dirs.end());
  EXPECT_EQ(store_listing(), layer_dirs); // no temp dir left behind
  EXPECT_EQ(read_file(dir1 + "/etc/motd"), "hello\n");
}

TEST_F(LayerStoreTest, GzipLayersAreUnpackedToo) {
  std::string gz = make_tar({tar_file("a", "A")}, Filter::Gzip);
  std::string diff_id = sha256_digest(make_tar({tar_file("a", "A")}));
  auto image = ImageSource::open(write_image({gz}, {diff_id}));
  LayerStore store(store_dir);
  UnpackStats stats;
  std::string dir = store.ensure(*image, 0, &stats);
  EXPECT_EQ(dir, store.path_for(diff_id));
  EXPECT_EQ(read_file(dir + "/a"), "A");
  EXPECT_EQ(stats.files, 1u);
}

TEST_F(LayerStoreTest, AbandonedTempDirIsIgnoredAndRemoved) {
  auto image = ImageSource::open(write_image({layer1}));
  std::string hex = digest_hex(sha256_digest(layer1));
  // What a killed unpack leaves: a partial tree, with a dir it could not finish.
  std::string partial = store_dir + "/.tmp-" + hex + "-dead01";
  make_dirs(partial + "/etc/locked");
  write_file(partial + "/etc/motd", "half");
  ::chmod((partial + "/etc/locked").c_str(), 0);
  write_file(store_dir + "/.tmp-" + hex + "-stray", "not a dir");

  LayerStore store(store_dir);
  UnpackStats stats;
  std::string dir = store.ensure(*image, 0, &stats);
  EXPECT_EQ(read_file(dir + "/etc/motd"), "hello\n");
  EXPECT_FALSE(exists(partial));
  EXPECT_EQ(store_listing(), std::vector<std::string>{hex});
  EXPECT_GT(stats.entries, 0u);
}

TEST_F(LayerStoreTest, TempDirHeldByALiveUnpackIsKept) {
  auto image = ImageSource::open(write_image({layer1}));
  std::string busy = store_dir + "/.tmp-" + digest_hex(sha256_digest(layer1)) + "-live01";
  make_dirs(busy);
  Fd held(::open(busy.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(held);
  ASSERT_EQ(::flock(held.get(), LOCK_EX | LOCK_NB), 0);

  LayerStore store(store_dir);
  EXPECT_EQ(store.remove_stale_temp_dirs(), 0u);
  store.ensure(*image, 0);
  EXPECT_TRUE(is_directory(busy)); // another process is still filling it
  held.reset();
  EXPECT_EQ(store.remove_stale_temp_dirs(), 1u);
  EXPECT_FALSE(exists(busy));
}

TEST_F(LayerStoreTest, LayerWhoseBytesDoNotMatchItsDigestIsNotKept) {
  std::string wrong = sha256_digest("something else");
  auto image = ImageSource::open(write_image({layer1}, {wrong}));
  LayerStore store(store_dir);
  try {
    store.ensure(*image, 0);
    FAIL() << "a layer with the wrong digest was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is corrupt"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(exists(store.path_for(wrong)));
  EXPECT_TRUE(store_listing().empty()); // no temp dir left either
}

// A compressed layer records no blob digest in a docker-archive: only the diff_id can
// tell that its content is not the layer it claims to be (a cache poisoned under a
// popular diff_id).
TEST_F(LayerStoreTest, CompressedLayerClaimingAnotherDiffIdIsNotKept) {
  std::string claimed = sha256_digest(layer1);
  for (Filter filter : {Filter::Gzip, Filter::Zstd}) {
    std::string evil = make_tar({tar_dir("etc"), tar_file("etc/motd", "evil\n")}, filter);
    auto image = ImageSource::open(write_image({evil}, {claimed}));
    LayerStore store(store_dir);
    try {
      store.ensure(*image, 0);
      FAIL() << "a layer claiming another diff_id was cached under it";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("is corrupt or forged"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(image->name() + ": layer 1 (" + claimed + ")"), std::string::npos)
          << e.what();
    }
    EXPECT_FALSE(exists(store.path_for(claimed)));
    EXPECT_TRUE(store_listing().empty());
  }
}

TEST_F(LayerStoreTest, UnprivilegedUnpackKeepsOwnersInXattrs) {
  ::chmod(tmp.path().c_str(), 0777);
  std::string image_path = write_image({layer1});
  ::chmod(image_path.c_str(), 0644);
  std::string result = as_unprivileged([&]() -> std::string {
    auto image = ImageSource::open(image_path);
    LayerStore store(store_dir);
    std::string dir = store.ensure(*image, 0);
    struct stat st = lstat_of(dir + "/etc/motd");
    if (st.st_uid != 65534) return "motd is owned by " + std::to_string(st.st_uid);
    std::string recorded = xattr_of(dir + "/etc/motd", kOverrideStatXattr);
    if (recorded.rfind("1000:1000:", 0) != 0) return "override_stat of motd is " + recorded;
    return "";
  });
  EXPECT_EQ(result, "");
}

} // namespace
