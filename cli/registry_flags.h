// What push, pull and the `-o docker://` outputs of build, layered and manifest share:
// the transport and credential flags as podman and skopeo spell them, per-blob progress
// on a terminal, and `fromImage: "docker://…@sha256:…"` pulled before a build.
#pragma once
#include "cli/command_line.h"
#include "cli/progress.h"
#include "image/image_writer.h"
#include "image/registry/pull.h"
#include "image/registry/push.h"
#include "image/spec.h"
#include "sys/temp.h"

#include <memory>
#include <string>
#include <vector>

namespace strata::cli {

struct RegistryFlags {
  std::string tls_verify = "true", cert_dir, creds, authfile;

  // --tls-verify, --cert-dir, --creds, --authfile.
  void add_to(CommandLine& cmd);
  registry::RegistryOptions options() const; // InputError for a bad --tls-verify
};

// Per-blob lines and a progress bar on a terminal (and with -v anywhere).
registry::PushEvents push_events(Progress& progress);
registry::PullEvents pull_events(Progress& progress);

// The summary note of a push.
void note_push(const registry::PushReport& report);

// `-o docker://…`: a push session and the image writer a build writes into.
struct RegistryOutput {
  std::unique_ptr<registry::RegistryPush> push;
  std::unique_ptr<ImageWriter> writer;
};
// nullptr when output is no docker:// reference. oci: an OCI manifest (--format oci-*).
std::unique_ptr<RegistryOutput> open_registry_output(const std::string& output, const RegistryFlags& flags,
                                                     Progress& progress, bool oci);

// A spec whose fromImage is docker://…@sha256:… gets it pulled (blobs cached and
// verified) and laid out as an OCI dir, which spec.from_image then names; the dir lives
// as long as the returned TempDir. nullptr when fromImage is a file.
std::unique_ptr<TempDir> pull_remote_base(Spec& spec, const RegistryFlags& flags, Progress& progress);

} // namespace strata::cli
