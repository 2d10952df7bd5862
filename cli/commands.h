// One registration function per subcommand; each lives in its own cmd_*.cpp.
#pragma once
#include <CLI/CLI.hpp>

namespace strata::cli {


} // namespace strata::cli
