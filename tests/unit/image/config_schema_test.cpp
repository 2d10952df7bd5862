#include "image/config_schema.h"
#include "sys/error.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

using nlohmann::json;

std::string problem(const json& config) {
  try {
    validate_container_config(config, "spec t.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ContainerConfig, TakesEveryFieldOfBothSpecs) {
  json config = {{"User", "1000:1000"},
                 {"ExposedPorts", {{"80/tcp", json::object()}, {"53/udp", json::object()}, {"8080", json::object()}}},
                 {"Env", {"PATH=/bin", "EMPTY="}},
                 {"Entrypoint", {"/bin/sh", "-c"}},
                 {"Cmd", nullptr},
                 {"Volumes", {{"/data", json::object()}}},
                 {"WorkingDir", "/"},
                 {"Labels", {{"org.opencontainers.image.title", "x"}}},
                 {"StopSignal", "SIGTERM"},
                 {"ArgsEscaped", false},
                 {"Memory", 1 << 30},
                 {"Healthcheck", {{"Test", {"CMD", "true"}}, {"Interval", 1000000000}, {"Retries", 3}}},
                 {"OnBuild", json::array()},
                 {"Shell", {"/bin/sh", "-c"}},
                 {"Tty", true},
                 {"SomethingNew", {{"nested", {1, 2}}}}};
  EXPECT_EQ(problem(config), "");
}

TEST(ContainerConfig, NamesTheFieldThatIsWrong) {
  EXPECT_EQ(problem({{"Cmd", 5}}), "spec t.json: 'config.Cmd' must be a list of strings, not a whole number");
  EXPECT_EQ(problem({{"Cmd", {"/bin/sh", 1}}}), "spec t.json: 'config.Cmd[1]' must be a string, not a whole number");
  EXPECT_EQ(problem({{"Entrypoint", "/bin/sh"}}), "spec t.json: 'config.Entrypoint' must be a list of strings, not a string");
  EXPECT_EQ(problem({{"Env", {"PATH"}}}), "spec t.json: 'config.Env[0]' is 'PATH', not NAME=value");
  EXPECT_EQ(problem({{"Env", {"=x"}}}), "spec t.json: 'config.Env[0]' is '=x', not NAME=value");
  EXPECT_EQ(problem({{"Labels", {{"a", 1}}}}), "spec t.json: 'config.Labels.a' must be a string, not a whole number");
  EXPECT_EQ(problem({{"User", 0}}), "spec t.json: 'config.User' must be a string, not a whole number");
  EXPECT_EQ(problem({{"Tty", "yes"}}), "spec t.json: 'config.Tty' must be a boolean, not a string");
  EXPECT_EQ(problem({{"Memory", 1.5}}), "spec t.json: 'config.Memory' must be a whole number (64-bit), not a number");
  EXPECT_EQ(problem({{"Memory", UINT64_MAX}}),
            "spec t.json: 'config.Memory' must be a whole number (64-bit), not a whole number");
  EXPECT_EQ(problem({{"Volumes", {"/data"}}}), "spec t.json: 'config.Volumes' must be an object whose members are {}, not a list");
  EXPECT_EQ(problem({{"Healthcheck", {{"Test", "true"}}}}),
            "spec t.json: 'config.Healthcheck.Test' must be a list of strings, not a string");
  for (const char* port : {"http", "0", "65536", "80/tcpx", "/tcp", "123456"})
    EXPECT_NE(problem({{"ExposedPorts", {{port, json::object()}}}}).find("'config.ExposedPorts' has the key"), std::string::npos)
        << port;
}

TEST(ContainerConfig, NoNulAnywhereAndABoundedSize) {
  EXPECT_EQ(problem({{"Env", {std::string("A=b\0c", 5)}}}), "spec t.json: 'config.Env[0]' holds a NUL byte");
  EXPECT_EQ(problem({{"Custom", {{"deep", {{std::string("k\0", 2), "v"}}}}}}), "spec t.json: 'config.Custom.deep.k\\0' holds a NUL byte");
  EXPECT_NE(problem({{"Labels", {{"big", std::string(max_config_bytes, 'v')}}}}).find("more than the 4194304"), std::string::npos);
  EXPECT_EQ(problem({{"Labels", {{"big", std::string(max_config_bytes - 100, 'v')}}}}), "");
}

} // namespace
} // namespace strata
