// The build spec: a JSON object whose keys are dockerTools' argument names (so a Nix
// wrapper can pass builtins.toJSON args), plus strata's own keys.
#pragma once
#include "image/compress.h"
#include "image/layer_entry.h"
#include "image/perms.h"
#include "image/time_value.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace strata {

struct Spec {
  std::string name;
  std::string tag; // empty: derived from the image's content hash
  std::string from_image, from_image_name, from_image_tag;
  std::vector<std::string> copy_to_root; // absolute paths
  bool keep_contents_dirlinks = false;
  std::vector<PermRule> perms; // nix2container's perms (image/perms.h)
  nlohmann::json config = nlohmann::json::object();
  std::string architecture; // default: the host's, in Go's naming (amd64, arm64, …)
  std::string variant;
  std::string os = "linux";
  std::string extra_commands, fake_root_commands, run_as_root;
  Owner owner; // uid, gid, uname, gname for the files strata lays out
  std::string created = "1970-01-01T00:00:01Z"; // RFC 3339, or "now"
  std::optional<int64_t> mtime;                 // layer mtime, seconds since the epoch
  int max_layers = 100;
  bool include_store_paths = true;
  bool include_nix_db = false;
  bool shadow_setup = false;
  Compression compression = Compression::Gzip;
  bool compression_given = false; // 'compressor' was in the spec
  std::string store_dir = "/nix/store";
  std::string closure_graph; // absolute path, or empty: scan
  // layeringPipeline: how store paths become layers. "auto" (nixpkgs' dockerAutoLayer,
  // the default), "popularity" (referencesByPopularity, the 2020 dockerTools) or
  // "pipeline": `layering_pipeline` holds the steps, checked when the image is built;
  // `layering_source` names them in messages.
  std::string layering = "auto";
  nlohmann::json layering_pipeline;
  std::string layering_source;
};

// Validates a spec object. `what` names it in messages (e.g. the file name); relative
// paths resolve against base_dir. InputError names the offending key.
Spec parse_spec(const nlohmann::json& object, const std::string& what, const std::string& base_dir);
// A spec file's JSON object, how to name it, and the folder its relative paths are in.
inline constexpr size_t max_spec_bytes = 16u << 20;
struct SpecSource {
  nlohmann::json object;
  std::string what;
  std::string base_dir;
};
// Reads a spec file ("-" reads stdin; a pipe is fine); InputError if it is missing, not
// a regular file or pipe, larger than max_spec_bytes, or not a JSON object.
SpecSource read_spec_source(const std::string& path);
Spec load_spec_file(const std::string& path);

// The mtime every layer entry gets: spec mtime, else $SOURCE_DATE_EPOCH, else 1
// (InputError for a value outside 0..max_epoch_seconds, e.g. from --mtime).
int64_t layer_mtime(const Spec& spec);
// The Nix DB's registrationTime: $SOURCE_DATE_EPOCH, else `created` (resolved), else 1.
int64_t nix_registration_time(const std::string& resolved_created);
// `created` as written into the config: "now" becomes the current UTC time.
std::string resolve_created(const std::string& created);
std::string host_architecture();

} // namespace strata
