// --archive-compress: an image archive compressed whole, as dockerTools' `compressor`
// makes buildImage's and buildLayeredImage's outputs (`docker-image-x.tar.gz` is a gzip
// file holding a docker-archive whose layers are plain tar). The command writes its
// archive to a temp file, which finish() compresses into the output.
#pragma once
#include "cli/command_line.h"
#include "image/compress.h"
#include "image/image_format.h"
#include "sys/temp.h"

#include <memory>
#include <string>

namespace strata::cli {

class ArchiveCompression {
public:
  // `help`: the option's help where a command's differs from build's.
  void add_to(CommandLine& cmd, const std::string& help = "");
  // The value given (before begin()), and a choice the command makes itself (merge's
  // `last`: as its last input is compressed).
  const std::string& name() const { return name_; }
  void choose(Compression c) { name_ = compression_name(c); }
  // Where the command writes its archive: `output` itself without compression, else a
  // temp file. InputError for a format or output that cannot be compressed whole.
  std::string begin(const std::string& output, ImageFormat format);
  // Compresses the temp file into the output (appearing complete or not at all).
  void finish();

private:
  std::string name_ = "none";
  Compression compression_ = Compression::None;
  std::unique_ptr<AtomicFile> out_;
  std::unique_ptr<TempDir> temp_;
};

} // namespace strata::cli
