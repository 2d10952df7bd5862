#include "engine/script_tools.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::engine {
namespace {

TEST(ScriptTools, StaticExecutables) {
  if (access("/bin/busybox", X_OK) == 0) EXPECT_TRUE(is_static_executable("/bin/busybox"));
  EXPECT_FALSE(is_static_executable("/bin/dash")); // needs ld.so
  TempDir dir("strata-test");
  write_file(dir.path() + "/script", "#!/bin/sh\necho hi\n", 0755);
  EXPECT_FALSE(is_static_executable(dir.path() + "/script"));
  EXPECT_FALSE(is_static_executable(dir.path() + "/missing"));
}

TEST(ScriptTools, ShellsInOrderAndPath) {
  TempDir store("strata-test-store");
  std::string bash = store.path() + "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bash/bin";
  std::string coreutils = store.path() + "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-coreutils/bin";
  make_dirs(bash);
  make_dirs(coreutils);
  write_file(bash + "/bash", "", 0755);
  write_file(bash + "/sh", "", 0755);
  std::string caller_path = "/usr/bin:" + coreutils + ":" + bash + ":" + store.path() + "/missing/bin:/bin";
  ScriptTools tools(store.path(), caller_path, std::nullopt);
  EXPECT_EQ(tools.shell(), "/bin/sh");
  EXPECT_EQ(tools.stand_ins(), (std::vector<std::string>{bash + "/sh", bash + "/bash"}));
  // Only store entries that exist are added, after the tree's usual PATH; none of the host's.
  EXPECT_EQ(tools.path_env(),
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" + coreutils + ":" + bash);
  EXPECT_TRUE(tools.binds().empty());
}

TEST(ScriptTools, ToolboxIsLastAndBoundPrivately) {
  if (access("/bin/busybox", X_OK) != 0 || !is_static_executable("/bin/busybox")) GTEST_SKIP() << "no static busybox";
  ScriptTools tools("/nonexistent-store", "/usr/bin:/bin", std::string("/bin/busybox"));
  EXPECT_EQ(tools.stand_ins(), (std::vector<std::string>{std::string(kToolboxDir) + "/sh"}));
  EXPECT_EQ(tools.path_env(), std::string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:") + kToolboxDir);
  ASSERT_EQ(tools.binds().size(), 2u);
  EXPECT_EQ(tools.binds()[0].target, kToolboxDir);
  EXPECT_TRUE(path_exists(tools.binds()[0].source + "/mkdir")); // an applet link
  EXPECT_EQ(tools.binds()[1].source, "/bin/busybox");
}

TEST(ScriptTools, ToolboxMustBeStatic) {
  EXPECT_THROW(find_toolbox("/bin/dash"), Error);
  EXPECT_FALSE(find_toolbox("none").has_value());
}

} // namespace
} // namespace strata::engine
