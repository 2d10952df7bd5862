#include "image/compress.h"
#include "sys/error.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <libdeflate.h>
#include <random>
#include <zstd.h>

namespace strata {
namespace {

std::string sample(size_t size, bool random) {
  std::string s(size, '\0');
  std::mt19937 rng(42);
  for (size_t i = 0; i < size; ++i) s[i] = random ? static_cast<char>(rng()) : static_cast<char>("hello world\n"[i % 12]);
  return s;
}

std::string compress(Compression c, const std::string& input, size_t piece = 7777) {
  StringSink out;
  auto sink = make_compressor(c, out);
  for (size_t i = 0; i < input.size(); i += piece) sink->write(input.data() + i, std::min(piece, input.size() - i));
  sink->finish();
  return out.data();
}

// Decompresses every gzip member in turn.
std::string gunzip_all(const std::string& data) {
  std::string out;
  auto* d = libdeflate_alloc_decompressor();
  size_t pos = 0;
  while (pos < data.size()) {
    std::string buf(4 << 20, '\0');
    size_t in_used = 0, out_used = 0;
    auto rc = libdeflate_gzip_decompress_ex(d, data.data() + pos, data.size() - pos, buf.data(), buf.size(), &in_used,
                                            &out_used);
    EXPECT_EQ(rc, LIBDEFLATE_SUCCESS);
    if (rc != LIBDEFLATE_SUCCESS) break;
    out.append(buf.data(), out_used);
    pos += in_used;
  }
  libdeflate_free_decompressor(d);
  return out;
}

class ThreadsEnv {
public:
  explicit ThreadsEnv(const char* n) { setenv("STRATA_THREADS", n, 1); }
  ~ThreadsEnv() { unsetenv("STRATA_THREADS"); }
};

TEST(Compress, GzipRoundTripsAcrossMembers) {
  std::string input = sample(3'500'000, false) + sample(2'000'000, true);
  std::string gz = compress(Compression::Gzip, input);
  EXPECT_LT(gz.size(), input.size());
  EXPECT_EQ(gunzip_all(gz), input);
}

TEST(Compress, GzipEmptyInputIsAValidStream) {
  std::string gz = compress(Compression::Gzip, "");
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(gunzip_all(gz), "");
}

TEST(Compress, OutputDoesNotDependOnThreadCount) {
  std::string input = sample(5'000'000, false) + sample(1'000'000, true);
  for (Compression c : {Compression::Gzip, Compression::Zstd}) {
    std::string one, four;
    {
      ThreadsEnv env("1");
      one = compress(c, input, 65536);
    }
    {
      ThreadsEnv env("4");
      four = compress(c, input, 1000);
    }
    EXPECT_EQ(one, four) << compression_name(c);
  }
}

TEST(Compress, ZstdRoundTrips) {
  std::string input = sample(3'000'000, false);
  std::string z = compress(Compression::Zstd, input);
  std::string out(input.size(), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), z.data(), z.size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  EXPECT_EQ(out.substr(0, n), input);
}

TEST(Compress, NonePassesBytesThrough) { EXPECT_EQ(compress(Compression::None, "abc"), "abc"); }

TEST(Compress, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_compression("gz", "x"), Compression::Gzip);
  EXPECT_EQ(parse_compression("zstd", "x"), Compression::Zstd);
  EXPECT_EQ(parse_compression("none", "x"), Compression::None);
  EXPECT_THROW(parse_compression("bzip2", "x"), InputError);
}

TEST(Compress, SniffsMagic) {
  EXPECT_EQ(sniff_compression("\x1f\x8b\x08", 3), Compression::Gzip);
  EXPECT_EQ(sniff_compression("\x28\xb5\x2f\xfd", 4), Compression::Zstd);
  EXPECT_EQ(sniff_compression("ustar", 5), Compression::None);
}

} // namespace
} // namespace strata
