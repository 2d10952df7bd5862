#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/registry_flags.h"
#include "image/digest.h"
#include "image/image_writer.h"
#include "image/nix/base32.h"
#include "image/registry/credentials.h"
#include "image/registry/pull.h"
#include "sys/error.h"
#include "sys/files.h"

#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace strata::cli {

std::string default_output_path(const std::string& image_name, ImageFormat format);

namespace {

// pullImage's sha256 (the hash of the output file): hex, Nix base32 or SRI.
std::string expected_sha256_hex(const std::string& text) {
  std::string s = text.rfind("sha256:", 0) == 0 ? text.substr(7) : text;
  if (s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos) return s;
  if (s.size() == 52)
    if (auto raw = nix::base32_decode(s, 32)) return to_hex(*raw);
  if (s.rfind("sha256-", 0) == 0)
    if (auto raw = registry::base64_decode(s.substr(7)); raw && raw->size() == 32) return to_hex(*raw);
  fail_input("--sha256 '{}' is no SHA-256 hash (64 hex digits, Nix base32 or sha256-BASE64)", text);
}

// Copies a file's bytes to an open fd.
void copy_file(const std::string& from, int to, const std::string& what) {
  Fd fd = open_or_fail(from, O_RDONLY);
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t n = read_full(fd.get(), buf.data(), buf.size(), from);
    if (n) write_all(to, buf.data(), n, what);
    if (n < buf.size()) break;
  }
}

void write_pulled(const registry::PulledImage& image, ImageWriter& writer, const ImageNaming& naming) {
  for (size_t i = 0; i < image.layers.size(); ++i) {
    ByteSink& sink = writer.begin_layer();
    Fd fd = open_or_fail(image.blobs[i].path, O_RDONLY);
    std::vector<char> buf(1 << 20);
    for (;;) {
      size_t n = read_full(fd.get(), buf.data(), buf.size(), image.blobs[i].path);
      if (n) sink.write(buf.data(), n);
      if (n < buf.size()) break;
    }
    writer.end_layer(image.layers[i]);
  }
  writer.commit(image.config_json, naming);
}

} // namespace

void define_pull_command(CommandLine& cmd) {
  struct Options {
    std::string reference, image_name, image_digest, sha256, os = "linux", arch, variant, final_name, final_tag,
        output, format = "docker-archive";
    RegistryFlags registry;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("REFERENCE", opts->reference, "docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (or give --image-name)");
  cmd.option("-o,--output", opts->output, "Output path (default: NAME.tar)");
  cmd.option("--format", opts->format, "docker-archive (default), oci-dir or oci-archive");
  cmd.option("--image-name", opts->image_name, "pullImage's imageName: REPO or HOST/REPO (Docker Hub without a host)");
  cmd.option("--image-digest", opts->image_digest, "pullImage's imageDigest: sha256:… of the manifest or list");
  cmd.option("--sha256", opts->sha256, "pullImage's sha256: the expected hash of the output file");
  cmd.option("--os", opts->os, "The platform's OS in a manifest list (default linux)");
  cmd.option("--arch", opts->arch, "The platform's architecture in a manifest list (default: the host's)");
  cmd.option("--variant", opts->variant, "The platform's variant in a manifest list (e.g. v8)");
  cmd.option("--final-image-name", opts->final_name, "The image's name in the output (default: the name pulled)");
  cmd.option("--final-image-tag", opts->final_tag, "The image's tag in the output (default: the tag pulled, or latest)");
  opts->registry.add_to(cmd);
  add_global_flags(cmd);
  cmd.callback([opts] {
    const Options& o = *opts;
    if (o.reference.empty() == o.image_name.empty())
      fail_input("give either REFERENCE (docker://…) or --image-name, not {}", o.reference.empty() ? "neither" : "both");
    std::string written = o.reference.empty() ? o.image_name : o.reference.substr(std::string("docker://").size());
    registry::Reference ref = o.reference.empty() ? registry::parse_image_name(o.image_name, "--image-name")
                                                  : registry::parse_docker_reference(o.reference, "REFERENCE");
    if (!o.image_digest.empty()) {
      if (!is_sha256_digest(o.image_digest)) fail_input("--image-digest '{}' is not sha256:<64 hex>", o.image_digest);
      if (!ref.digest.empty() && ref.digest != o.image_digest)
        fail_input("--image-digest {} differs from the reference's {}", o.image_digest, ref.digest);
      ref.digest = o.image_digest;
    }
    ImageFormat format = parse_image_format(o.format, "--format");
    if (format == ImageFormat::RegistryDir) fail_input("--format: pull writes docker-archive, oci-dir or oci-archive");
    std::string expected = o.sha256.empty() ? "" : expected_sha256_hex(o.sha256);
    if (!expected.empty() && format == ImageFormat::OciDir) fail_input("--sha256 needs an archive --format, not oci-dir");
    // The name as given, without tag or digest (pullImage's finalImageName defaults to imageName).
    std::string name = written.substr(0, written.find('@'));
    if (auto colon = name.rfind(':'); colon != std::string::npos && name.find('/', colon) == std::string::npos &&
                                      colon > (name.rfind('/') == std::string::npos ? 0 : name.rfind('/')))
      name.resize(colon);
    ImageNaming naming{o.final_name.empty() ? name : o.final_name,
                       !o.final_tag.empty() ? o.final_tag : (ref.tag.empty() ? "latest" : ref.tag)};
    std::string output = o.output.empty() ? default_output_path(naming.name, format) : o.output;
    if (output == "-") fail_input("pull writes a file or directory; -o - is not supported");
    // The output is opened (and its path checked) before anything is fetched; it appears
    // only once every blob matched (and, with --sha256, the result too).
    std::unique_ptr<ImageWriter> writer;
    std::unique_ptr<TempDir> stage;
    std::unique_ptr<AtomicFile> checked_output;
    if (expected.empty()) {
      writer = make_image_writer(format, output, 1);
    } else {
      checked_output = std::make_unique<AtomicFile>(output);
      stage = std::make_unique<TempDir>("strata-pull");
      writer = make_image_writer(format, stage->path() + "/image", 1);
    }

    Progress progress;
    registry::PullOptions options;
    options.registry = o.registry.options();
    options.platform = {o.os, o.arch, o.variant};
    options.events = pull_events(progress);
    registry::PulledImage image = registry::pull_image(ref, options);
    progress.step("writing " + output);
    write_pulled(image, *writer, naming);
    if (checked_output) {
      std::string got = sha256_file_hex(stage->path() + "/image");
      if (got != expected)
        fail_input("the pulled image hashes to sha256:{}, not the expected sha256:{} (--sha256)", got, expected);
      copy_file(stage->path() + "/image", checked_output->fd(), output);
      checked_output->commit();
    }
    progress.done();
    nlohmann::json report = image.to_json();
    report["output"] = output;
    report["format"] = image_format_name(format);
    report["image"] = naming.name + ":" + naming.tag;
    if (global_options().json) print_json(report);
    else note(fmt::format("pulled {} ({} layers) -> {} ({})", image.reference, image.layers.size(), output,
                          image_format_name(format)));
  });
}

} // namespace strata::cli
