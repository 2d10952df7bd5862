#include "cli/progress.h"

#include "cli/common.h"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace strata::cli {

std::string human_bytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (1u << 20)) return fmt::format("{:.1f} KiB", n / 1024.0);
  if (n < (1u << 30)) return fmt::format("{:.1f} MiB", n / 1048576.0);
  return fmt::format("{:.2f} GiB", n / 1073741824.0);
}

Progress::Progress() : enabled_(::isatty(STDERR_FILENO) && !global_options().quiet()) {}

Progress::~Progress() { done(); }

void Progress::draw(const std::string& line) {
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::step(const std::string& what) {
  step_ = what;
  verbose(what);
  if (enabled_ && !global_options().verbose()) draw("strata: " + what);
}

void Progress::bytes(uint64_t done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  draw(fmt::format("strata: {}: {}", step_, human_bytes(done)));
}

void Progress::done() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

} // namespace strata::cli
