#include "cli/registry_flags.h"

#include "cli/common.h"
#include "sys/error.h"

#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace strata::cli {

using namespace registry;

namespace {

std::string short_digest(const std::string& digest) { return digest.substr(0, 7 + 12); }

// Per-blob lines go to a terminal (not to a log), and with -v anywhere.
void blob_line(Progress& progress, const std::string& line) {
  progress.done();
  if (global_options().verbose()) verbose(line);
  else if (::isatty(STDERR_FILENO) && !global_options().quiet()) std::fprintf(stderr, "strata: %s\n", line.c_str());
}

} // namespace

void RegistryFlags::add_to(CommandLine& cmd) {
  cmd.option("--tls-verify", tls_verify,
             "true (default): HTTPS with a verified certificate; false: unverified HTTPS, or plain HTTP");
  cmd.option("--cert-dir", cert_dir, "CA certificates (*.crt) and a client certificate (*.cert, *.key) for TLS");
  cmd.option("--creds", creds, "USER[:PASSWORD] for the registry (else --authfile or the default auth files)");
  cmd.option("--authfile", authfile,
             "auth.json to read credentials from (default: $REGISTRY_AUTH_FILE, "
             "$XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json)");
}

RegistryOptions RegistryFlags::options() const {
  RegistryOptions o;
  if (tls_verify == "true" || tls_verify == "1") o.tls.verify = true;
  else if (tls_verify == "false" || tls_verify == "0") o.tls.verify = false;
  else fail_input("--tls-verify must be true or false, not '{}'", tls_verify);
  o.tls.cert_dir = cert_dir;
  o.credentials = {creds, authfile};
  return o;
}

PushEvents push_events(Progress& progress) {
  PushEvents e;
  e.upload_started = [&progress](const std::string& digest, uint64_t size) {
    progress.step(fmt::format("uploading {} ({})", short_digest(digest), human_bytes(size)));
  };
  e.upload_progress = [&progress](uint64_t sent) { progress.bytes(sent); };
  e.blob_done = [&progress](const PushedBlob& b) {
    std::string how = b.outcome == BlobOutcome::Mounted ? "mounted from " + b.mounted_from
                      : b.outcome == BlobOutcome::Uploaded ? fmt::format("uploaded ({})", human_bytes(b.bytes_sent))
                                                           : "already present";
    blob_line(progress, fmt::format("{} {} {}", b.kind, short_digest(b.digest), how));
  };
  return e;
}

PullEvents pull_events(Progress& progress) {
  PullEvents e;
  e.fetch_started = [&progress](const std::string& digest, uint64_t size) {
    progress.step(fmt::format("fetching {} ({})", short_digest(digest), human_bytes(size)));
  };
  e.fetch_progress = [&progress](uint64_t n) { progress.bytes(n); };
  e.blob_done = [&progress](const std::string& digest, uint64_t size, bool cached) {
    blob_line(progress, fmt::format("{} {} ({})", short_digest(digest), cached ? "cached" : "fetched", human_bytes(size)));
  };
  return e;
}

void note_push(const PushReport& r) {
  unsigned uploaded = 0, mounted = 0, present = 0;
  for (const auto& b : r.blobs)
    (b.outcome == BlobOutcome::Uploaded ? uploaded : b.outcome == BlobOutcome::Mounted ? mounted : present)++;
  note(fmt::format("pushed {} ({} blobs: {} uploaded, {} mounted, {} already present; {} sent), manifest {}", r.reference,
                   r.blobs.size(), uploaded, mounted, present, human_bytes(r.bytes_sent), r.manifest_digest));
}

std::unique_ptr<RegistryOutput> open_registry_output(const std::string& output, const RegistryFlags& flags,
                                                     Progress& progress, bool oci) {
  if (!is_docker_reference(output)) return nullptr;
  auto out = std::make_unique<RegistryOutput>();
  PushOptions options;
  options.registry = flags.options();
  options.events = push_events(progress);
  out->push = std::make_unique<RegistryPush>(parse_docker_reference(output, "-o"), options);
  out->writer = make_registry_writer(*out->push, oci);
  return out;
}

std::unique_ptr<TempDir> pull_remote_base(Spec& spec, const RegistryFlags& flags, Progress& progress) {
  if (!is_docker_reference(spec.from_image)) return nullptr;
  Reference ref = parse_docker_reference(spec.from_image, "fromImage");
  if (ref.digest.empty())
    fail_input("fromImage {} must name a digest (docker://…@sha256:…), so the build is reproducible", spec.from_image);
  PullOptions options;
  options.registry = flags.options();
  options.platform.architecture = spec.architecture;
  options.platform.os = spec.os.empty() ? "linux" : spec.os;
  options.platform.variant = spec.variant;
  options.events = pull_events(progress);
  progress.step("pulling base image " + spec.from_image);
  PulledImage image = pull_image(ref, options);
  auto dir = std::make_unique<TempDir>("strata-base");
  std::string tag = spec.from_image_tag.empty() ? "base" : spec.from_image_tag;
  lay_out_oci(image, dir->path() + "/image", tag);
  spec.from_image = dir->path() + "/image";
  spec.from_image_name.clear();
  spec.from_image_tag.clear();
  return dir;
}

} // namespace strata::cli
