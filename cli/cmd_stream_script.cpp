// `strata stream-script SPEC -o OUT`: streamLayeredImage's output, an executable that runs
// `strata stream SPEC` (its arguments passed on), naming this strata binary and the spec
// by absolute path. The spec is checked now, as the script will read it.
#include "cli/commands.h"
#include "cli/common.h"
#include "image/spec.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <fmt/format.h>
#include <memory>
#include <unistd.h>

namespace strata::cli {
namespace {

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string own_path() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) fail_errno("cannot find strata's own path (/proc/self/exe)");
  return std::string(self, static_cast<size_t>(n));
}

} // namespace

void define_stream_script_command(CommandLine& cmd) {
  struct Options {
    std::string spec, output, shell = "/bin/sh";
  };
  auto opts = std::make_shared<Options>();
  cmd.option("SPEC", opts->spec, "Spec file (JSON with dockerTools' argument names), read again when the script runs")
      .required();
  cmd.option("-o,--output", opts->output, "The script to write (mode 0755; appears only when complete)")
      .required()
      .not_empty();
  cmd.option("--shell", opts->shell, "The script's interpreter (default /bin/sh)");
  add_global_flags(cmd);
  cmd.callback([opts] {
    if (opts->spec == "-") fail_input("stream-script needs a spec file: the script reads it when it runs");
    if (opts->shell.empty() || opts->shell[0] != '/')
      fail_input("--shell must be an absolute path, not '{}'", opts->shell);
    std::string spec_path = absolute_path(opts->spec);
    Spec spec = load_spec_file(spec_path);
    std::string script = fmt::format("#!{}\n# streamLayeredImage {}: the image as a docker-archive on stdout\n"
                                     "exec {} stream {} \"$@\"\n",
                                     opts->shell, spec.name, shell_quoted(own_path()), shell_quoted(spec_path));
    AtomicFile out(opts->output, 0755);
    write_all(out.fd(), script, out.target());
    out.commit();
    note(fmt::format("stream script for {} -> {}", spec.name, opts->output));
  });
}

} // namespace strata::cli
