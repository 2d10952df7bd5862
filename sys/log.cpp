#include "sys/log.h"

#include <cstdio>

namespace strata {

LogLevels& log_levels() {
  static LogLevels levels;
  return levels;
}

void log_note(const std::string& message) {
  if (!log_levels().quiet) std::fprintf(stderr, "%s\n", message.c_str());
}

void log_verbose(const std::string& message) {
  if (log_levels().verbose > 0 && !log_levels().quiet) std::fprintf(stderr, "strata: %s\n", message.c_str());
}

} // namespace strata
