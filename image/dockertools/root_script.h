// Running root scripts (runAsRoot, fakeRootCommands) is the sandbox's work, which the
// image library does not know: builders call it through this interface, and engine/ gives
// them an implementation over ns/ and mount/.
#pragma once
#include "image/image_reader.h"
#include "image/layer_entry.h"
#include "sys/temp.h"

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace strata {

struct RootScriptRequest {
  const ImageSource* base = nullptr; // its layers are stacked below `upper`; null: none
  std::string upper;                 // the new layer's dir: pre-filled, receives every change
  std::string script;                // run with `sh -e` as uid 0
  std::vector<std::string> env;      // extra KEY=VALUE
  std::string store_dir;             // bound read-only at the same path
  // The shell is the tree's own /bin/sh, else one from the caller's PATH entries in the
  // store, else the runner's toolbox; their tools are on PATH after the tree's
  // (engine/script_tools.h). Nothing of the host appears at its own path.
  // extraCommands: run as the calling user (no capabilities; chown to another id fails,
  // as in a Nix build), with `upper` bound at kLayerDir as its cwd and the only writable
  // path: the root is an empty read-only dir with the store, /dev, /proc, /tmp. `base`
  // is not used.
  bool as_caller = false;
  std::string what = "runAsRoot";    // names the script in messages
  // Run by the caller's side while the script runs (see ns::SandboxConfig::meanwhile).
  std::function<void()> meanwhile;
};

struct RootScriptReport {
  int exit_status = 0;
  std::string id_mode;      // root | subuid | fuse | single
  std::string root;         // how the root was stacked, e.g. "overlay:kernel"
  uint64_t layers_unpacked = 0; // base layers unpacked for this run (0: all cached)
  uint64_t bytes_unpacked = 0;
  std::string cache_dir;    // where base layers are kept unpacked ("" without a base)
  std::string owners;       // how owners are kept: real (on disk) | xattr | table (no user xattrs)
  nlohmann::json to_json() const;
};

class RootScriptRunner {
public:
  virtual ~RootScriptRunner() = default;
  // Runs the script. A non-zero exit status is reported, not thrown.
  virtual RootScriptReport run(const RootScriptRequest& request) = 0;
  // Reads `upper` back as a layer diff (whiteouts, opaque dirs, recorded owners) after
  // run(), in layer order. Mount points the sandbox made and left empty are left out.
  virtual void walk_upper(const std::string& upper, int64_t mtime, const EntryVisitor& visit) = 0;
  // Removes a dir run() wrote into (it may hold files owned by other mapped ids).
  virtual void remove(const std::string& dir) = 0;
  // Makes what run() left in `upper` readable by the caller, owners kept as walk_upper
  // reports them (walk_upper does it too): for reading the files before that.
  virtual void make_upper_readable(const std::string& upper) = 0;
};

// Where an as_caller script finds the layer dir (its cwd) inside the sandbox.
inline constexpr const char* kLayerDir = "/build/layer";

// The error a failed root script ends strata with: its exit status is strata's.
[[noreturn]] void fail_root_script(const RootScriptReport& report, const std::string& what);

// Scratch dirs of root-script runs are named <temp parent>/<kScratchPrefix>-<pid>.XXXXXX;
// one left by a strata that was killed (pid gone) is removed by the runner's next run.
inline constexpr const char* kScratchPrefix = "strata-rootscript";

// A scratch dir holding the upper dir of one run, removed through the runner: the
// script may have left files owned by ids only the sandbox can remove.
class ScratchDir {
public:
  explicit ScratchDir(RootScriptRunner& runner);
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  const std::string& path() const { return dir_.path(); }
  const std::string& upper() const { return upper_; }

private:
  RootScriptRunner& runner_;
  TempDir dir_; // removes whatever the runner could not
  std::string upper_;
};

} // namespace strata
