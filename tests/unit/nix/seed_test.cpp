#include "image/digest.h"
#include "image/nix/nar_hash_text.h"
#include "image/nix/registration.h"
#include "image/nix/seed.h"
#include "nix_tool.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"
#include "ns/sys/temp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sys/stat.h>

namespace strata::nix {
namespace {

using test::quote;
using test::run;
using test::trim;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A store made by nix-bin under a temp root: a file, a directory tree and a symlink,
// added with `nix-store --add`; strata's image root gets copies of them.
class SeedTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string src = src_.path();
    write_file(src + "/greeting", "hello\n");
    make_dirs(src + "/tree/bin");
    make_dirs(src + "/tree/share/a b");
    write_file(src + "/tree/bin/run", "#!/bin/sh\n");
    ::chmod((src + "/tree/bin/run").c_str(), 0755);
    write_file(src + "/tree/share/a b/ü", "utf-8");
    ASSERT_EQ(::symlink("/nix/store/somewhere", (src + "/link").c_str()), 0);
    for (const char* name : {"greeting", "tree", "link"})
      added_.push_back(trim(run("nix-store --store " + quote(nix_store()) + " --add " + quote(src + "/" + name))));
    make_dirs(image_.path() + "/nix/store");
    for (const auto& p : added_) run("cp -a " + quote(host_.path() + p) + " " + quote(image_.path() + "/nix/store/"));
  }

  std::string nix_store() const { return "local?root=" + host_.path(); }
  std::string image_store() const { return "local?root=" + image_.path(); }
  std::string image_nix(const std::string& args) {
    return run("nix-store --store " + quote(image_store()) + " " + args);
  }

  // tree -> greeting, link; greeting -> itself.
  std::vector<ClosurePath> closure() const {
    return {ClosurePath{added_[1], {added_[0], added_[2]}, "", "", std::nullopt},
            ClosurePath{added_[0], {added_[0]}, "", "", std::nullopt},
            ClosurePath{added_[2], {}, "", "", std::nullopt}};
  }

  SeedOptions options() const {
    SeedOptions o;
    o.real_store_dir = host_.path() + "/nix/store";
    o.registration_time = 1234567;
    o.gc_roots = {added_[1]};
    return o;
  }

  test::NixEnvironment env_;
  TempDir src_{"strata-seed-src"}, host_{"strata-seed-host"}, image_{"strata-seed-image"};
  std::vector<std::string> added_;
};

TEST_F(SeedTest, NixStoreVerifiesTheSeededDb) {
  seed_nix_db(image_.path(), closure(), options());
  std::string db = read_file(image_.path() + "/nix/var/nix/db/db.sqlite");
  image_nix("--verify --check-contents 2>&1");
  for (const auto& p : added_) {
    SCOPED_TRACE(p);
    std::string host_q = "nix-store --store " + quote(nix_store()) + " -q ";
    EXPECT_EQ(image_nix("-q --hash " + p), run(host_q + "--hash " + p));
    EXPECT_EQ(image_nix("-q --size " + p), run(host_q + "--size " + p));
  }
  EXPECT_EQ(lines_of(image_nix("-q --references " + added_[1])), lines_of(added_[0] + "\n" + added_[2] + "\n"));
  EXPECT_EQ(lines_of(image_nix("-q --requisites " + added_[1])),
            lines_of(added_[0] + "\n" + added_[1] + "\n" + added_[2] + "\n"));
  EXPECT_EQ(lines_of(image_nix("-q --referrers " + added_[0])), lines_of(added_[0] + "\n" + added_[1] + "\n"));
  EXPECT_EQ(trim(image_nix("--gc --print-roots | grep -c gcroots/docker")), "1");
  // Seeding a second root from the same inputs gives the same db bytes.
  TempDir again("strata-seed-again");
  seed_nix_db(again.path(), closure(), options());
  EXPECT_EQ(read_file(again.path() + "/nix/var/nix/db/db.sqlite"), db);
}

TEST_F(SeedTest, MissingPathOutsidePathAndHashMismatchWriteNothing) {
  auto missing = closure();
  std::string gone = added_[2].substr(0, added_[2].size() - 4) + "gone";
  missing[0].references.push_back(gone);
  missing.push_back(ClosurePath{gone, {}, "", "", std::nullopt});
  try {
    seed_nix_db(image_.path(), missing, options());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing on disk"), std::string::npos) << e.what();
  }
  auto outside = closure();
  outside.push_back(ClosurePath{"/elsewhere/" + basename_of(added_[0]), {}, "", "", std::nullopt});
  EXPECT_THROW(seed_nix_db(image_.path(), outside, options()), InputError);
  auto wrong_hash = closure();
  wrong_hash[1].nar_hash = std::string(32, 'x');
  EXPECT_THROW(seed_nix_db(image_.path(), wrong_hash, options()), InputError);
  auto wrong_size = closure();
  wrong_size[1].nar_size = 1;
  EXPECT_THROW(seed_nix_db(image_.path(), wrong_size, options()), InputError);
  EXPECT_FALSE(path_exists(image_.path() + "/nix/var"));
}

TEST_F(SeedTest, RegistrationFromNixDumpDbRoundTrips) {
  std::string dump = run("nix-store --store " + quote(nix_store()) + " --dump-db " + added_[0] + " " + added_[1]);
  auto parsed = parse_registration(dump, "dump");
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0].path, added_[0]);
  EXPECT_TRUE(parsed[0].nar_size.has_value());
  std::string hash = trim(run("nix-store --store " + quote(nix_store()) + " -q --hash " + added_[0]));
  EXPECT_EQ(sha256_base32_text(parsed[0].nar_hash), hash);
  // Graph hashes and sizes are checked against the disk, and agree.
  auto regs = register_closure(parsed, options());
  EXPECT_EQ(regs[1].nar_size, *parsed[1].nar_size);
}

TEST(Registration, ParsesEveryFieldAndAllHashForms) {
  std::string a = "/nix/store/" + std::string(32, 'a') + "-a", b = "/nix/store/" + std::string(32, 'b') + "-b";
  std::string hex(64, 'f');
  std::string text = a + "\n" + hex + "\n120\n/nix/store/" + std::string(32, 'd') + "-a.drv\n2\n" + a + "\n" + b +
                     "\n" + b + "\nsha256:" + std::string(52, '0') + "\n8\n\n0\n";
  auto paths = parse_registration(text, "reg");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0].path, a);
  EXPECT_EQ(paths[0].nar_hash, std::string(32, '\xff'));
  EXPECT_EQ(paths[0].nar_size, 120u);
  EXPECT_EQ(paths[0].deriver, "/nix/store/" + std::string(32, 'd') + "-a.drv");
  EXPECT_EQ(paths[0].references, (std::vector<std::string>{a, b}));
  EXPECT_EQ(paths[1].nar_hash, std::string(32, '\0'));
  EXPECT_EQ(paths[1].deriver, "");
  EXPECT_TRUE(paths[1].references.empty());
}

TEST(Registration, BadFilesNameTheLineAndWhatWasExpected) {
  std::string a = "/nix/store/" + std::string(32, 'a') + "-a";
  std::string hex(64, 'f');
  auto message = [](const std::string& text) {
    try {
      parse_registration(text, "REG");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(a + "\nnot-a-hash\n1\n\n0\n"),
            "REG: line 2: expected a NAR hash (sha256, base16/base32/base64), got 'not-a-hash'");
  EXPECT_EQ(message(a + "\n" + hex + "\nbig\n\n0\n"), "REG: line 3: expected a NAR size, got 'big'");
  EXPECT_EQ(message(a + "\n" + hex + "\n1\n\n2\n" + a + "\n"), "REG: ends at line 7 where a reference was expected");
  EXPECT_EQ(message("relative\n"), "REG: line 1: expected a store path, got 'relative'");
  EXPECT_EQ(message(""), "REG: holds no store paths");
  EXPECT_EQ(message(a + "\n" + hex + "\n1\nderiver\n0\n"),
            "REG: line 4: expected a deriver (or an empty line), got 'deriver'");
}

TEST(Registration, ReadsAClosureInfoDirOrFile) {
  TempDir dir("strata-reg");
  std::string a = "/nix/store/" + std::string(32, 'a') + "-a";
  write_file(dir.path() + "/registration", a + "\n" + std::string(64, '0') + "\n1\n\n0\n");
  EXPECT_EQ(read_registration(dir.path()).size(), 1u);
  EXPECT_EQ(read_registration(dir.path() + "/registration").size(), 1u);
  EXPECT_THROW(read_registration(dir.path() + "/nope"), InputError);
}

} // namespace
} // namespace strata::nix
