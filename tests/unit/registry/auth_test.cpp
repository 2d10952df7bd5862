#include "image/registry/challenge.h"
#include "image/registry/credentials.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cstdlib>
#include <gtest/gtest.h>

namespace strata::registry {
namespace {

TEST(Challenge, Bearer) {
  auto c = parse_challenge(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->param("realm"), "https://auth.example/token");
  EXPECT_EQ(c->param("service"), "registry.example");
  EXPECT_EQ(c->param("scope"), "repository:a/b:pull,push"); // the comma inside quotes stays
}

TEST(Challenge, BasicAndOddSpacing) {
  auto c = parse_challenge(R"(Basic realm="Registry \"Realm\"" , charset=UTF-8)");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->param("realm"), "Registry \"Realm\"");
  EXPECT_EQ(c->param("charset"), "UTF-8");
  EXPECT_FALSE(parse_challenge(""));
  EXPECT_FALSE(parse_challenge("realm=x"));
}

TEST(Base64, RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff", 2)}) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_FALSE(base64_decode("abc"));
}

class Credentials_ : public ::testing::Test {
protected:
  void SetUp() override {
    for (const char* v : {"REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "HOME"}) {
      const char* old = std::getenv(v);
      saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
    }
    ::setenv("HOME", (dir_.path() + "/home").c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", (dir_.path() + "/run").c_str(), 1);
    ::unsetenv("REGISTRY_AUTH_FILE");
  }
  void TearDown() override {
    for (auto& [name, value] : saved_)
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
  }
  std::string file(const std::string& rel, const std::string& host, const std::string& user_pass) {
    std::string path = dir_.path() + "/" + rel;
    make_dirs(dirname_of(path));
    write_file(path, R"({"auths":{")" + host + R"(":{"auth":")" + base64_encode(user_pass) + R"("}}})");
    return path;
  }
  TempDir dir_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(Credentials_, CredsFlagFirst) {
  file("home/.docker/config.json", "r:5000", "docker:x");
  auto c = find_credentials("r:5000", {"me:secret", ""});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "me");
  EXPECT_EQ(c->password, "secret");
  EXPECT_EQ(find_credentials("r:5000", {"me", ""})->password, "");
  EXPECT_THROW(find_credentials("r:5000", {":nouser", ""}), InputError);
}

TEST_F(Credentials_, SearchOrder) {
  file("home/.docker/config.json", "r:5000", "docker:1");
  EXPECT_EQ(find_credentials("r:5000", {})->username, "docker");
  file("run/containers/auth.json", "r:5000", "xdg:2");
  EXPECT_EQ(find_credentials("r:5000", {})->username, "xdg");
  std::string env = file("env.json", "r:5000", "env:3");
  ::setenv("REGISTRY_AUTH_FILE", env.c_str(), 1);
  EXPECT_EQ(find_credentials("r:5000", {})->username, "env");
  std::string given = file("given.json", "r:5000", "given:4");
  EXPECT_EQ(find_credentials("r:5000", {"", given})->username, "given");
  EXPECT_FALSE(find_credentials("other:1", {}));
  EXPECT_THROW(find_credentials("r:5000", {"", dir_.path() + "/missing.json"}), InputError);
}

TEST_F(Credentials_, AFileWithoutTheHostFallsThrough) {
  file("run/containers/auth.json", "elsewhere:1", "xdg:2");
  file("home/.docker/config.json", "https://r:5000/v1/", "docker:1");
  EXPECT_EQ(find_credentials("r:5000", {})->username, "docker");
  file("home/.docker/config.json", "https://index.docker.io/v1/", "hub:1");
  EXPECT_EQ(find_credentials("docker.io", {})->username, "hub");
}

TEST_F(Credentials_, MalformedFileIsNamedNotPrinted) {
  std::string path = dir_.path() + "/bad.json";
  write_file(path, R"({"auths":{"r:1":{"auth":"c2VjcmV0"}}})"); // "secret", no colon
  try {
    find_credentials("r:1", {"", path});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("c2VjcmV0"), std::string::npos);
  }
}

} // namespace
} // namespace strata::registry
