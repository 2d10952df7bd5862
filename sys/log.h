// Messages for the person running strata, on stderr: notes (silenced by -q) and details
// (shown with -v). Every folder may report through here; cli/ sets the levels from flags.
#pragma once
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

} // namespace strata
