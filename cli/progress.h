// A one-line progress display on stderr, shown only when stderr is a terminal and
// the command is not quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace strata::cli {

class Progress {
public:
  Progress();
  ~Progress();
  void step(const std::string& what);
  void bytes(uint64_t done);
  void done();

private:
  void draw(const std::string& line);
  bool enabled_;
  bool drawn_ = false;
  std::string step_;
  std::chrono::steady_clock::time_point last_;
};

std::string human_bytes(uint64_t n);

} // namespace strata::cli
