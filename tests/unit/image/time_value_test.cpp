#include "image/time_value.h"
#include "sys/error.h"

#include <cstdlib>
#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(Rfc3339, ReadsWhatGoReads) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01Z"), 1);
  EXPECT_EQ(parse_rfc3339("2001-02-03T04:05:06.789Z"), 981173106);
  EXPECT_EQ(parse_rfc3339("2001-02-03T05:05:06+01:00"), 981173106);
  EXPECT_EQ(parse_rfc3339("2001-02-03t04:05:06z"), 981173106);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00.123456789-23:59"), 951782400 + 23 * 3600 + 59 * 60);
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:59Z"), max_epoch_seconds);
  EXPECT_EQ(parse_rfc3339("0000-01-01T00:00:00Z"), INT64_C(-62167219200));
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), -1);
}

TEST(Rfc3339, RefusesWhatNoReaderTakes) {
  for (const char* bad : {"-001-01-01T00:00:00Z", "2023-01-01T00:00:00+99:99", "2023-01-01T00:00:00+24:00",
                          "2023-01-01T00:00:00+01:60", "2023-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-00-01T00:00:00Z",
                          "2023-13-01T00:00:00Z", "2023-01-01T24:00:00Z", "2023-01-01T00:60:00Z",
                          "2023-01-01T00:00:60Z", "2023-01-01T00:00:00.1234567890Z", "2023-01-01T00:00:00.Z",
                          "2023-01-01T00:00:00", "2023-01-01 00:00:00Z", "+2023-01-01T00:00:00Z",
                          "10000-01-01T00:00:00Z", "2023-1-01T00:00:00Z", "2023-01-01T00:00:00Z ",
                          "2023-01-01T00:00:00+0100", "2001-02-03", "yesterday", ""})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(EpochSeconds, DigitsUpToTheYear9999) {
  EXPECT_EQ(parse_epoch_seconds("0"), 0);
  EXPECT_EQ(parse_epoch_seconds("253402300799"), max_epoch_seconds);
  for (const char* bad : {"", "-1", "+1", "1.5", " 1", "253402300800", "99999999999999999999999", "0x10"})
    EXPECT_FALSE(parse_epoch_seconds(bad)) << bad;
  EXPECT_THROW(checked_epoch_seconds(-1, "the mtime"), InputError);
  EXPECT_THROW(checked_epoch_seconds(max_epoch_seconds + 1, "the mtime"), InputError);
  EXPECT_EQ(checked_epoch_seconds(7, "the mtime"), 7);
}

TEST(SourceDateEpoch, ReadAndChecked) {
  ::unsetenv("SOURCE_DATE_EPOCH");
  EXPECT_FALSE(source_date_epoch());
  ::setenv("SOURCE_DATE_EPOCH", "", 1);
  EXPECT_FALSE(source_date_epoch());
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  EXPECT_EQ(source_date_epoch(), 1700000000);
  ::setenv("SOURCE_DATE_EPOCH", "99999999999999999999999", 1);
  try {
    source_date_epoch();
    ADD_FAILURE() << "a SOURCE_DATE_EPOCH beyond 64 bits was taken";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("SOURCE_DATE_EPOCH is '99999999999999999999999'"), std::string::npos) << e.what();
  }
  ::unsetenv("SOURCE_DATE_EPOCH");
}

} // namespace
} // namespace strata
