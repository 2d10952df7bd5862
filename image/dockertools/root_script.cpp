#include "image/dockertools/root_script.h"

#include "sys/error.h"
#include "sys/files.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

void fail_root_script(const RootScriptReport& report, const std::string& what) {
  throw Error(report.exit_status > 0 && report.exit_status < 256 ? report.exit_status : 1,
              report.exit_status > 128 ? fmt::format("{} was killed by signal {}", what, report.exit_status - 128)
                                       : fmt::format("{} failed with exit status {}", what, report.exit_status));
}

json RootScriptReport::to_json() const {
  json out = {{"exit_status", exit_status},
              {"id_mode", id_mode},
              {"root", root},
              {"layers_unpacked", layers_unpacked},
              {"bytes_unpacked", bytes_unpacked}};
  if (!cache_dir.empty()) out["cache_dir"] = cache_dir;
  if (!owners.empty()) out["owners"] = owners;
  return out;
}


ScratchDir::ScratchDir(RootScriptRunner& runner)
    : runner_(runner), dir_(fmt::format("{}-{}", kScratchPrefix, ::getpid())), upper_(dir_.path() + "/upper") {
  ::chmod(dir_.path().c_str(), 0755);
  make_dirs(upper_, 0755);
  ::chmod(upper_.c_str(), 0755); // the root dir of the sandbox, whatever the umask
}

ScratchDir::~ScratchDir() {
  try {
    runner_.remove(dir_.path());
  } catch (...) {
  }
}

} // namespace strata
