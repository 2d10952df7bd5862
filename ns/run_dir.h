// A host-side directory for one sandbox run (e.g. the mount point of its overlay,
// which is mounted only inside the sandbox's mount namespace).
//
// It is named <prefix>-<owner pid>-XXXXXX in the temp parent ($TMPDIR or /tmp) and
// removed when the object dies. If strata is killed before that (SIGKILL), the next
// RunDir made by the same user sweeps the directories whose owner pid is gone.
#pragma once
#include <string>

namespace strata::ns {

class RunDir {
public:
  explicit RunDir(const std::string& prefix = "strata-run", const std::string& parent = "");
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  ~RunDir();

  const std::string& path() const { return path_; }

private:
  std::string path_;
};

// Removes <prefix>-<pid>-* dirs in parent owned by the caller whose pid is not alive.
// Returns how many were removed.
int sweep_stale_run_dirs(const std::string& prefix, const std::string& parent);

} // namespace strata::ns
