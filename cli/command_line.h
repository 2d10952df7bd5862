// The options of one subcommand, as the cmd_*.cpp files define them. The one door to
// CLI11 for them: its header makes every file that includes it construct CLI11's eight
// validator objects at start-up, 0.3 ms over 16 files, and compile slowly; with this,
// two files include it.
#pragma once
#include <functional>
#include <string>

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace strata::cli {

class CommandLine {
public:
  // An option just added, to say more of it.
  class Added {
  public:
    explicit Added(CLI::Option* option) : option_(option) {}
    Added& required();      // the command fails without it
    Added& show_default();  // --help shows the variable's initial value
    Added& not_empty();     // an empty value (-o "") is a usage error, not the default

  private:
    CLI::Option* option_;
  };

  explicit CommandLine(CLI::App& command) : command_(command) {}

  // An option ("--long,-s") or, for a name without a dash, a positional argument, parsed
  // into `into`. T is one of the types command_line.cpp instantiates.
  template <typename T> Added option(const std::string& names, T& into, const std::string& help);
  // A flag: true when given; an int counts how many times (-vv).
  Added flag(const std::string& names, bool& into, const std::string& help);
  Added flag(const std::string& names, int& count, const std::string& help);
  // Runs once the command line is parsed, when this subcommand was chosen.
  void callback(std::function<void()> run);

private:
  CLI::App& command_;
};

} // namespace strata::cli
