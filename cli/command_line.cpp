#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <vector>

namespace strata::cli {

CommandLine::Added& CommandLine::Added::required() {
  option_->required();
  return *this;
}

CommandLine::Added& CommandLine::Added::show_default() {
  option_->capture_default_str();
  return *this;
}

CommandLine::Added& CommandLine::Added::not_empty() {
  option_->check([](const std::string& value) { return value.empty() ? std::string("an empty value is no path") : std::string(); });
  return *this;
}

template <typename T> CommandLine::Added CommandLine::option(const std::string& names, T& into, const std::string& help) {
  return Added(command_.add_option(names, into, help));
}

template CommandLine::Added CommandLine::option(const std::string&, std::string&, const std::string&);
template CommandLine::Added CommandLine::option(const std::string&, std::vector<std::string>&, const std::string&);
template CommandLine::Added CommandLine::option(const std::string&, std::optional<std::string>&, const std::string&);
template CommandLine::Added CommandLine::option(const std::string&, std::optional<int>&, const std::string&);
template CommandLine::Added CommandLine::option(const std::string&, std::optional<int64_t>&, const std::string&);
template CommandLine::Added CommandLine::option(const std::string&, unsigned&, const std::string&);

CommandLine::Added CommandLine::flag(const std::string& names, bool& into, const std::string& help) {
  return Added(command_.add_flag(names, into, help));
}

CommandLine::Added CommandLine::flag(const std::string& names, int& count, const std::string& help) {
  return Added(command_.add_flag(names, count, help));
}

void CommandLine::callback(std::function<void()> run) { command_.callback(std::move(run)); }

} // namespace strata::cli
