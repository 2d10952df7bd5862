// TarsumSink (image/tarsum.h) against moby pkg/tarsum's published Version1 vectors, on
// tars built here block by block (ustar headers, PAX records for xattrs), fed in odd
// chunk sizes. Lives with the mount tests because test_mount links strata_image.
#include "image/tarsum.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <map>
#include <string>

using namespace strata;

namespace {

struct Header {
  std::string name;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string uname, gname;
  char typeflag = '0';
  std::string data;
  std::map<std::string, std::string> xattrs;
};

void octal(std::string& block, size_t offset, size_t width, uint64_t value) {
  std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::memcpy(&block[offset], digits.data(), width - 1);
}

std::string header_block(const std::string& name, char typeflag, uint64_t size, const Header& h) {
  std::string block(512, '\0');
  std::memcpy(&block[0], name.data(), name.size());
  octal(block, 100, 8, h.mode);
  octal(block, 108, 8, h.uid);
  octal(block, 116, 8, h.gid);
  octal(block, 124, 12, size);
  octal(block, 136, 12, 0);
  block[156] = typeflag;
  std::memcpy(&block[257], "ustar\0" "00", 8);
  std::memcpy(&block[265], h.uname.data(), h.uname.size());
  std::memcpy(&block[297], h.gname.data(), h.gname.size());
  octal(block, 329, 8, 0);
  octal(block, 337, 8, 0);
  std::memset(&block[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  std::string chk = fmt::format("{:06o}", sum);
  std::memcpy(&block[148], chk.data(), 6);
  block[154] = '\0';
  return block;
}

std::string padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

std::string tar_of(const Header& h) {
  std::string out;
  if (!h.xattrs.empty()) {
    std::string records;
    for (const auto& [k, v] : h.xattrs) {
      std::string body = " SCHILY.xattr." + k + "=" + v + "\n";
      size_t len = body.size() + 2;
      if (std::to_string(len).size() + body.size() != len) ++len;
      records += std::to_string(len) + body;
    }
    out += header_block("PaxHeaders/" + h.name, 'x', records.size(), h) + padded(records);
  }
  out += header_block(h.name, h.typeflag, h.data.size(), h) + padded(h.data);
  out += std::string(1024, '\0');
  return out;
}

std::string tarsum_of(const std::string& tar, size_t chunk) {
  TarsumSink sink;
  for (size_t pos = 0; pos < tar.size(); pos += chunk) sink.write(tar.data() + pos, std::min(chunk, tar.size() - pos));
  return sink.checksum();
}

TEST(Tarsum, MobyVersion1Vectors) {
  Header empty{"file.txt"};
  Header another{"another.txt", 0, 1000, 1000, "slartibartfast", "users", '0', "test"};
  Header xattrs = another;
  xattrs.name = "xattrs.txt";
  xattrs.xattrs = {{"user.key1", "value1"}, {"user.key2", "value2"}};
  Header upper = xattrs;
  upper.xattrs = {{"user.KEY1", "value1"}, {"user.key2", "value2"}};
  for (size_t chunk : {1ul, 7ul, 512ul, 100000ul}) {
    EXPECT_EQ(tarsum_of(tar_of(empty), chunk),
              "tarsum.v1+sha256:6ffd43a1573a9913325b4918e124ee982a99c0f3cba90fc032a65f5e20bdd465");
    EXPECT_EQ(tarsum_of(tar_of(another), chunk),
              "tarsum.v1+sha256:b38166c059e11fb77bef30bf16fba7584446e80fcc156ff46d47e36c5305d8ef");
    EXPECT_EQ(tarsum_of(tar_of(xattrs), chunk),
              "tarsum.v1+sha256:4cc2e71ac5d31833ab2be9b4f7842a14ce595ec96a37af4ed08f87bc374228cd");
    EXPECT_EQ(tarsum_of(tar_of(upper), chunk),
              "tarsum.v1+sha256:65f4284fa32c0d4112dd93c3637697805866415b570587e4fd266af241503760");
  }
}

TEST(Tarsum, MemberOrderDoesNotMatterButContentDoes) {
  Header a{"a", 0644, 0, 0, "root", "root", '0', "AAA"};
  Header b{"b", 0644, 0, 0, "root", "root", '0', "BBB"};
  auto two = [](const Header& x, const Header& y) {
    std::string t = tar_of(x);
    t.resize(t.size() - 1024);
    return t + tar_of(y);
  };
  EXPECT_EQ(tarsum_of(two(a, b), 512), tarsum_of(two(b, a), 512));
  Header b2 = b;
  b2.data = "BBC";
  EXPECT_NE(tarsum_of(two(a, b), 512), tarsum_of(two(a, b2), 512));
}

TEST(Tarsum, TruncatedTarIsAnError) {
  Header a{"a", 0644, 0, 0, "root", "root", '0', std::string(1000, 'x')};
  std::string tar = tar_of(a);
  TarsumSink sink;
  sink.write(tar.data(), 800);
  EXPECT_ANY_THROW(sink.checksum());
}

} // namespace
