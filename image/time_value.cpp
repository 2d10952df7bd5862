#include "image/time_value.h"

#include "sys/error.h"

#include <charconv>
#include <cstdlib>
#include <ctime>

namespace strata {
namespace {

// Reads exactly `width` decimal digits at text[pos].
std::optional<int> digits(std::string_view text, size_t pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool is_leap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int64_t year, int month) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// Days from 1970-01-01 to year-month-day of the proleptic Gregorian calendar.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

} // namespace

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) || *hour > 23 || *minute > 59 ||
      *second > 59)
    return std::nullopt;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    size_t first = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == first || pos - first > 9) return std::nullopt;
  }
  std::string_view zone = text.substr(pos);
  int64_t offset = 0;
  if (zone != "Z" && zone != "z") {
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') return std::nullopt;
    auto zone_hours = digits(zone, 1, 2), zone_minutes = digits(zone, 4, 2);
    if (!zone_hours || !zone_minutes || *zone_hours > 23 || *zone_minutes > 59) return std::nullopt;
    offset = (*zone_hours * 3600 + *zone_minutes * 60) * (zone[0] == '+' ? 1 : -1);
  }
  int64_t days = days_from_civil(*year, *month, *day);
  return days * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
}

std::optional<int64_t> parse_epoch_seconds(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max_epoch_seconds) return std::nullopt;
  return value;
}

std::optional<int64_t> source_date_epoch() {
  const char* text = std::getenv("SOURCE_DATE_EPOCH");
  if (!text || !*text) return std::nullopt;
  auto seconds = parse_epoch_seconds(text);
  if (!seconds)
    fail_input("SOURCE_DATE_EPOCH is '{:.40}', not a number of seconds in 0..{} (9999-12-31T23:59:59Z)", text,
               max_epoch_seconds);
  return seconds;
}

int64_t checked_epoch_seconds(int64_t seconds, const std::string& what) {
  if (seconds < 0 || seconds > max_epoch_seconds)
    fail_input("{} is {}, outside 0..{} (1970 to 9999-12-31T23:59:59Z)", what, seconds, max_epoch_seconds);
  return seconds;
}

std::string now_rfc3339() {
  std::time_t now = std::time(nullptr);
  struct tm utc;
  ::gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

} // namespace strata
