// Opening image archives whatever their bytes: a bad one is an InputError naming it.
#include "image/image_reader.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

void expect_input_error(const std::string& bytes, const std::string& message) {
  TempDir dir("strata-test-image-reader");
  std::string path = dir.path() + "/image.tar.gz";
  write_file(path, bytes);
  try {
    ImageSource::open(path);
    ADD_FAILURE() << "opened; expected an error containing: " << message;
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(message), std::string::npos) << m;
  }
}

// Found by fuzz_image_archive: a gzip stream libarchive fails to open without saying
// why; its null error string made fmt throw, and strata exited 1 with "string pointer
// is null" instead of naming the input (exit 2).
TEST(ImageReader, AGzipArchiveLibarchiveGivesNoReasonForIsAnInputError) {
  const std::string bytes(
      "\x1f\x8b\x08\x08\x28\xa3\x69\x6e\x2e\x74\x00\xed\x9a\xdf\x6f\xda"
      "\x30\x10\xc7\x79\xee\x5f\xc1\xbc\xd7\x16\xce\x8e\xed\xc4\x91\xf6"
      "\x30\x55\x7d\x98\x34\x6d\x52\x57\xed\x61\x53\x55\xe5\x87\xdd\x64"
      "\x02\x82\x92\xb0\x15\x21\xfe\xf7\xd9\xc0\xb6\x2a\xa8\xa4\x1d\x24"
      "\x34\xad\x3f\x20\x45\x09\x26\xe7\xf8\xcb\xf9\xee\x6c\x94\x14\xae"
      "\xe2\xbf\x53",
      83);
  expect_input_error(bytes, "libarchive gives no reason");
}

TEST(ImageReader, TruncatedCompressedArchivesAreInputErrors) {
  expect_input_error(std::string("\x1f\x8b\x08\x00", 4), "image.tar.gz");
  expect_input_error(std::string("\x28\xb5\x2f\xfd", 4), "image.tar.gz");
}

} // namespace
} // namespace strata
