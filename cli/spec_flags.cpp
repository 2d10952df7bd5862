#include "cli/spec_flags.h"

#include "image/json_input.h"
#include "sys/error.h"
#include "sys/files.h"

namespace strata::cli {

using nlohmann::json;

void SpecFlags::add_to(CommandLine& cmd, bool layered) {
  cmd.option("SPEC", spec_path, "Spec file (JSON with dockerTools' argument names; - for stdin)");
  cmd.option("--name", name, "Image name (spec key 'name')");
  cmd.option("--tag", tag, "Image tag (default: from the image's content hash)");
  cmd.option("--copy-to-root", copy_to_root, "Tree to copy into the image root (repeatable; 'copyToRoot')");
  cmd.option("--from-image", from_image, "Base image: docker-archive, OCI dir or OCI archive, or docker://…@sha256:… ('fromImage')");
  cmd.option("--from-image-name", from_image_name, "Image to use from a base holding several");
  cmd.option("--from-image-tag", from_image_tag, "Tag to use from the base");
  cmd.option("--config-json", config_json, "Image config as JSON, e.g. '{\"Cmd\":[\"/bin/sh\"]}' ('config')");
  cmd.option("--created", created, "Creation time in the config: RFC 3339 or 'now'");
  cmd.option("--mtime", mtime, "Modification time of every layer entry: RFC 3339 or seconds");
  cmd.option("--extra-commands", extra_commands, "Shell commands run in the layer root before packing");
  cmd.option("--run-as-root", run_as_root, "Shell commands run as root in the image (sandboxed)");
  cmd.option("--store-dir", store_dir, "Nix store directory (default /nix/store)");
  cmd.option("--closure-graph", closure_graph, "closureInfo dir, exportReferencesGraph file or JSON graph");
  cmd.option("--architecture", architecture, "Architecture in the config (default: this machine's)");
  cmd.option("--uid", uid, "Owner uid of the files strata lays out");
  cmd.option("--gid", gid, "Owner gid of the files strata lays out");
  cmd.option("--compress", compress, "Layer compression: none, gzip (default) or zstd ('compressor')");
  if (layered) {
    cmd.option("--max-layers", max_layers, "Most layers the image may have (default 100)");
    cmd.option("--fake-root-commands", fake_root_commands, "Commands run as root in the customisation layer");
    cmd.option("--layering-pipeline", layering_pipeline,
               "How store paths become layers: auto (default), popularity, a pipeline as JSON, or a file holding one");
  }
}

Spec SpecFlags::load() const {
  SpecSource source{json::object(), "command line", absolute_path(".")};
  if (!spec_path.empty()) source = read_spec_source(spec_path);
  json& object = source.object;
  // Flags name paths relative to the working directory.
  auto abs = [](const std::string& p) { return absolute_path(p); };
  if (name) object["name"] = *name;
  if (tag) object["tag"] = *tag;
  if (!copy_to_root.empty()) {
    json list = json::array();
    for (const auto& p : copy_to_root) list.push_back(abs(p));
    object.erase("contents");
    object["copyToRoot"] = list;
  }
  if (from_image) object["fromImage"] = from_image->rfind("docker://", 0) == 0 ? *from_image : abs(*from_image);
  if (from_image_name) object["fromImageName"] = *from_image_name;
  if (from_image_tag) object["fromImageTag"] = *from_image_tag;
  if (config_json) object["config"] = parse_json_input(*config_json, "--config-json");
  if (created) object["created"] = *created;
  if (mtime) {
    bool numeric = !mtime->empty() && mtime->find_first_not_of("0123456789") == std::string::npos;
    auto seconds = numeric ? parse_epoch_seconds(*mtime) : std::nullopt;
    if (numeric && !seconds) fail_input("--mtime {:.40} is outside 0..{} (9999-12-31T23:59:59Z)", *mtime, max_epoch_seconds);
    object["mtime"] = numeric ? json(*seconds) : json(*mtime);
  }
  if (extra_commands) object["extraCommands"] = *extra_commands;
  if (run_as_root) object["runAsRoot"] = *run_as_root;
  if (fake_root_commands) object["fakeRootCommands"] = *fake_root_commands;
  if (store_dir) object["storeDir"] = *store_dir;
  if (closure_graph) object["closureGraph"] = abs(*closure_graph);
  if (architecture) object["architecture"] = *architecture;
  if (uid) object["uid"] = *uid;
  if (gid) object["gid"] = *gid;
  if (max_layers) object["maxLayers"] = *max_layers;
  if (layering_pipeline) {
    const std::string& v = *layering_pipeline;
    if (v.empty() || v[0] != '[') {
      object["layeringPipeline"] = v == "auto" || v == "popularity" ? v : abs(v);
    } else {
      object["layeringPipeline"] = parse_json_input(v, "--layering-pipeline");
    }
  }
  if (compress) object["compressor"] = *compress;
  if (spec_path.empty() && !name) fail_input("give a SPEC file or --name");
  return parse_spec(object, source.what, source.base_dir);
}

} // namespace strata::cli
