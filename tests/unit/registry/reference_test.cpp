#include "image/registry/reference.h"
#include "sys/error.h"

#include <gtest/gtest.h>

namespace strata::registry {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(Reference, HostPortRepoTag) {
  Reference r = parse_docker_reference("docker://127.0.0.1:5000/a/b:v1", "t");
  EXPECT_EQ(r.registry, "127.0.0.1:5000");
  EXPECT_EQ(r.repository, "a/b");
  EXPECT_EQ(r.tag, "v1");
  EXPECT_EQ(r.digest, "");
  EXPECT_EQ(r.manifest_reference(), "v1");
}

TEST(Reference, DigestWinsOverTag) {
  Reference r = parse_docker_reference("docker://localhost/x:1@" + kDigest, "t");
  EXPECT_EQ(r.registry, "localhost");
  EXPECT_EQ(r.tag, "1");
  EXPECT_EQ(r.manifest_reference(), kDigest);
}

TEST(Reference, DockerHubNames) {
  Reference r = parse_image_name("alpine", "t");
  EXPECT_EQ(r.registry, "docker.io");
  EXPECT_EQ(r.repository, "library/alpine");
  EXPECT_EQ(r.api_host(), "registry-1.docker.io");
  EXPECT_EQ(r.manifest_reference(), "latest");
  EXPECT_EQ(parse_image_name("nixos/nix:2.3", "t").repository, "nixos/nix");
  EXPECT_EQ(parse_image_name("ghcr.io/o/r", "t").registry, "ghcr.io");
}

TEST(Reference, Malformed) {
  EXPECT_THROW(parse_docker_reference("oci:foo", "t"), InputError);
  EXPECT_THROW(parse_docker_reference("docker://h:1/Upper", "t"), InputError);
  EXPECT_THROW(parse_docker_reference("docker://h:1/r@sha256:abc", "t"), InputError);
  EXPECT_THROW(parse_docker_reference("docker://h:1/r:bad tag", "t"), InputError);
  EXPECT_THROW(parse_docker_reference("docker://h:1/a//b", "t"), InputError);
  EXPECT_THROW(parse_image_name("", "t"), InputError);
}

} // namespace
} // namespace strata::registry
