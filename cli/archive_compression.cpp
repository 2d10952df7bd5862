#include "cli/archive_compression.h"

#include "image/sink.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"

#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace strata::cli {

void ArchiveCompression::add_to(CommandLine& cmd, const std::string& help) {
  cmd.option("--archive-compress", name_,
             !help.empty() ? help : "Compress the whole archive: none (default), gzip or zstd (dockerTools' compressor)");
}

std::string ArchiveCompression::begin(const std::string& output, ImageFormat format) {
  compression_ = parse_compression(name_, "--archive-compress");
  if (compression_ == Compression::None) return output;
  if (format != ImageFormat::DockerArchive && format != ImageFormat::OciArchive)
    fail_input("--archive-compress needs an archive format (docker-archive or oci-archive), not {}",
               image_format_name(format));
  if (output.rfind("docker://", 0) == 0) fail_input("--archive-compress cannot apply to a registry output ({})", output);
  // the output is opened now, so that a bad one fails before the work
  out_ = std::make_unique<AtomicFile>(output == "-" ? AtomicFile::to_stream(STDOUT_FILENO, "stdout")
                                                    : AtomicFile(output));
  temp_ = std::make_unique<TempDir>("strata-archive");
  return temp_->path() + "/image.tar";
}

void ArchiveCompression::finish() {
  if (!temp_) return;
  std::string plain = temp_->path() + "/image.tar";
  Fd in = open_or_fail(plain, O_RDONLY);
  FdSink file(out_->fd(), out_->target());
  auto compressor = make_compressor(compression_, file);
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t n = read_full(in.get(), buf.data(), buf.size(), plain);
    if (n) compressor->write(buf.data(), n);
    if (n < buf.size()) break;
  }
  compressor->finish();
  out_->commit();
  out_.reset();
  temp_.reset();
}

} // namespace strata::cli
