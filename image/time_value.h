// Times strata reads from its inputs: RFC 3339 text (spec `created`, `mtime`) and
// seconds since the epoch (`mtime`, $SOURCE_DATE_EPOCH, --mtime), held to what every
// image reader can represent: years 0000..9999 as text, 0 .. 9999-12-31T23:59:59Z as
// the mtime of a layer entry.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

inline constexpr int64_t max_epoch_seconds = INT64_C(253402300799); // 9999-12-31T23:59:59Z

// Parses RFC 3339 as Go's time.Parse(time.RFC3339) does (what Docker and podman read
// `created` with): "2024-01-02T03:04:05Z", a fraction of up to 9 digits, an offset of
// at most ±23:59; a day the month has, no leap second. Returns seconds since the epoch
// (negative before 1970); nullopt when the text is not such a time.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Decimal seconds 0..max_epoch_seconds, digits only; nullopt otherwise.
std::optional<int64_t> parse_epoch_seconds(std::string_view text);

// $SOURCE_DATE_EPOCH: nullopt when unset or empty; InputError naming it when it is not
// a number of seconds in 0..max_epoch_seconds.
std::optional<int64_t> source_date_epoch();

// Throws InputError "<what> is N, outside 0..max" unless 0 <= seconds <= max_epoch_seconds.
int64_t checked_epoch_seconds(int64_t seconds, const std::string& what);

// The current UTC time as RFC 3339 ("2024-01-02T03:04:05Z").
std::string now_rfc3339();

} // namespace strata
