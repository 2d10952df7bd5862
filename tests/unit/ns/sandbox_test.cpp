// Runs the real sandbox over a busybox rootfs made in a temp dir.
#include "ns/owner_supervisor.h"
#include "ns/run_dir.h"
#include "ns/sandbox.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <chrono>
#include <cstdio>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace strata;
using namespace strata::ns;

namespace {

// A rootfs with /bin/busybox and a symlink per applet; no /dev, /proc, /sys or /tmp.
class BusyboxRoot {
public:
  BusyboxRoot() : dir_("strata-ns-test") {
    ::chmod(dir_.path().c_str(), 0755);
    root_ = dir_.path() + "/root";
    make_dirs(root_ + "/bin");
    make_dirs(root_ + "/mnt");
    std::string cmd = "cp /bin/busybox " + root_ + "/bin/ && cd " + root_ +
                      "/bin && for a in $(./busybox --list); do [ -e $a ] || ln -s busybox $a; done";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot make a busybox rootfs (busybox-static?)");
  }
  const std::string& path() const { return root_; }

private:
  TempDir dir_;
  std::string root_;
};

SandboxConfig shell(const BusyboxRoot& root, const std::string& script, IdMode mode = IdMode::Auto) {
  SandboxConfig config;
  config.rootfs = root.path();
  config.argv = {"/bin/sh", "-c", script};
  config.env = default_env();
  config.id_mode = mode;
  return config;
}

std::string xattr_of(const std::string& path) {
  char buf[256];
  ssize_t n = ::getxattr(path.c_str(), kOverrideStatXattr, buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

} // namespace

TEST(Sandbox, ReturnsTheCommandsExitStatus) {
  BusyboxRoot root;
  EXPECT_EQ(run_sandbox(shell(root, "exit 7")).exit_status, 7);
  EXPECT_EQ(run_sandbox(shell(root, "true")).exit_status, 0);
  EXPECT_EQ(run_sandbox(shell(root, "kill -TERM $$")).exit_status, 128 + 15);
}

TEST(Sandbox, CommandIsRootUnderAnInitWithItsOwnHostname) {
  BusyboxRoot root;
  auto result = run_sandbox(shell(root,
                                  "test \"$(id -u)\" = 0 && test \"$(cat /proc/1/comm)\" = strata-init && "
                                  "test \"$(hostname)\" = strata && test \"$(ps -o pid | wc -l)\" -le 6"));
  EXPECT_EQ(result.exit_status, 0);
}

TEST(Sandbox, ReportsTheMountPointsItCreated) {
  BusyboxRoot root;
  auto result = run_sandbox(shell(root, "test -c /dev/null && test -d /proc/self && test -w /tmp && "
                                        "test -k /dev/shm && touch /dev/shm/x && test -L /dev/ptmx"));
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.created_paths, (std::vector<std::string>{"/dev", "/proc", "/tmp", "/sys"}));
  // Mounts lived only in the sandbox: the dirs are empty on the host.
  EXPECT_FALSE(path_exists(root.path() + "/dev/null"));
}

TEST(Sandbox, SingleIdModeRecordsChownInTheXattr) {
  BusyboxRoot root;
  auto result = run_sandbox(shell(root, "echo x > /f && chmod 4755 /f && chown 1000:1001 /f && mkdir /d && "
                                        "chown 5:6 /d && chmod 0700 /d",
                                  IdMode::Single));
  ASSERT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.mode_used, IdMode::Single);
  struct stat st;
  ASSERT_EQ(::stat((root.path() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());  // on disk: still the caller
  EXPECT_EQ(xattr_of(root.path() + "/f"), "1000:1001:0755");  // chown cleared setuid, as the kernel does
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(xattr_of(root.path() + "/d"), "5:6:0700");  // chmod after chown kept in the record
}

TEST(Sandbox, DeviceNodesBecomeTypedFiles) {
  BusyboxRoot root;
  auto result = run_sandbox(shell(root, "umask 022 && mknod /null c 1 3 && mknod /wh c 0 0"));
  ASSERT_EQ(result.exit_status, 0);
  struct stat st;
  ASSERT_EQ(::stat((root.path() + "/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(xattr_of(root.path() + "/null"), "0:0:0644:char-1-3");
  ASSERT_EQ(::lstat((root.path() + "/wh").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "a 0:0 whiteout is left to the kernel";
}

TEST(Sandbox, RootModeChownsForReal) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs real root";
  BusyboxRoot root;
  auto result = run_sandbox(shell(root, "touch /f && chown 1000:1001 /f", IdMode::Root));
  ASSERT_EQ(result.exit_status, 0);
  struct stat st;
  ASSERT_EQ(::stat((root.path() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(xattr_of(root.path() + "/f"), "");
}

TEST(Sandbox, ConfinementRefusesMountsModulesAndTheClock) {
  BusyboxRoot root;
  EXPECT_NE(run_sandbox(shell(root, "mount -t tmpfs t /mnt")).exit_status, 0);
  EXPECT_NE(run_sandbox(shell(root, "umount -l /")).exit_status, 0);
  EXPECT_EQ(run_sandbox(shell(root, "date -s 2001-01-01 2>&1 | grep -q \"not permitted\"")).exit_status, 0);
  EXPECT_EQ(run_sandbox(shell(root, "grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status")).exit_status, 0);
  // CapBnd keeps only the documented set (13 capabilities: 0x...).
  EXPECT_EQ(run_sandbox(shell(root, "grep -q '^CapBnd:[[:space:]]*00000000a80405fb' /proc/self/status")).exit_status, 0);
}

TEST(Sandbox, TimeoutKillsTheSandbox) {
  BusyboxRoot root;
  SandboxConfig config = shell(root, "sleep 30");
  config.timeout = std::chrono::seconds(1);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(run_sandbox(config), WorkError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// run_sandbox returns once nothing of the sandbox runs: a background loop the command
// left appending to a file is dead by then, so the file no longer grows.
TEST(Sandbox, NothingOfTheSandboxRunsOnceItReturns) {
  BusyboxRoot root;
  auto result = run_sandbox(shell(root, "(while :; do echo x >> /mnt/log; done) & sleep 0.2; exit 0"));
  EXPECT_EQ(result.exit_status, 0);
  struct stat before, after;
  ASSERT_EQ(::stat((root.path() + "/mnt/log").c_str(), &before), 0);
  EXPECT_GT(before.st_size, 0);
  ::usleep(300 * 1000);
  ASSERT_EQ(::stat((root.path() + "/mnt/log").c_str(), &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
}

// The parent's work overlaps the command: the command waits for a file only the
// parent's `meanwhile` writes (into the rootfs, which the sandbox sees), and finds it.
TEST(Sandbox, MeanwhileRunsInTheParentWhileTheCommandRuns) {
  BusyboxRoot root;
  SandboxConfig config =
      shell(root, "i=0; while [ ! -e /mnt/from-parent ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
                  "test -e /mnt/from-parent");
  bool ran = false;
  config.meanwhile = [&] {
    write_file(root.path() + "/mnt/from-parent", "", 0644);
    ran = true;
  };
  EXPECT_EQ(run_sandbox(config).exit_status, 0);
  EXPECT_TRUE(ran);
}

// A failing `meanwhile` kills the sandbox (the command would sleep a minute) and its
// exception reaches the caller.
TEST(Sandbox, AFailingMeanwhileKillsTheSandbox) {
  BusyboxRoot root;
  SandboxConfig config = shell(root, "sleep 60");
  config.meanwhile = [] { fail_input("the base image is corrupt"); };
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(run_sandbox(config), InputError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Sandbox, SetupFailuresAndBadInputAreErrors) {
  BusyboxRoot root;
  SandboxConfig config = shell(root, "true");
  config.cwd = "/no/such/dir";
  try {
    run_sandbox(config);
    FAIL() << "expected a WorkError";
  } catch (const WorkError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/dir"), std::string::npos) << e.what();
  }
  config.cwd = "/";
  config.rootfs = root.path() + "/missing";
  EXPECT_THROW(run_sandbox(config), InputError);
  config.rootfs = root.path();
  config.argv.clear();
  EXPECT_THROW(run_sandbox(config), InputError);
}

TEST(Sandbox, PrepareRootMountsTheRootAndNamesIt) {
  BusyboxRoot root;
  SandboxConfig config = shell(root, "test -x /bin/busybox");
  config.rootfs.clear();
  std::string source = root.path();
  config.prepare_root = [source](const std::string& target) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) throw WorkError("bind failed");
    return std::string("bind");
  };
  auto result = run_sandbox(config);
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.root_label, "bind");
}

TEST(RunDir, SweepsDirectoriesOfDeadOwners) {
  TempDir parent("strata-rundir-test");
  // A pid that is not running: a child that has exited and been reaped.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  int status;
  ::waitpid(dead, &status, 0);
  std::string stale = parent.path() + "/strata-run-" + std::to_string(dead) + "-abcdef";
  make_dirs(stale + "/sub");
  std::string live = parent.path() + "/strata-run-1-abcdef";  // pid 1 is alive
  make_dirs(live);
  std::string mine;
  {
    RunDir dir("strata-run", parent.path());
    mine = dir.path();
    EXPECT_TRUE(is_directory(mine));
    EXPECT_FALSE(path_exists(stale));
    EXPECT_TRUE(path_exists(live));
  }
  EXPECT_FALSE(path_exists(mine));
}
