// Messages for the person running strata, on stderr: notes (silenced by -q) and details
// (shown with -v). Every folder may report through here; cli/ sets the levels from flags.
#pragma once
#include <initializer_list>
#include <string>

namespace strata {

struct LogLevels {
  bool quiet = false; // -q: errors and requested output only
  int verbose = 0;    // -v, repeatable
};

LogLevels& log_levels();

// A note for the user (suppressed by -q).
void log_note(const std::string& message);
// A detail shown with -v, prefixed "strata: ".
void log_verbose(const std::string& message);

// An error from a forked or vforked child: "strata: " and the parts on one line, by
// write(2) alone (no allocation, no stdio), so it is safe where little else is.
void log_from_child(std::initializer_list<const char*> parts);

} // namespace strata
