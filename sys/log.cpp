#include "sys/log.h"

#include <cstdio>
#include <cstring>
#include <unistd.h>

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

void log_from_child(std::initializer_list<const char*> parts) {
  (void)!::write(STDERR_FILENO, "strata: ", 8);
  for (const char* part : parts) (void)!::write(STDERR_FILENO, part, std::strlen(part));
  (void)!::write(STDERR_FILENO, "\n", 1);
}

} // namespace strata
