#include "image/layer_dir_writer.h"

#include "image/digest.h"
#include "image/sink.h"
#include "image/tarsum.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

std::string checked_layer_dir_target(const std::string& out_dir, const std::string& label) {
  std::string target = out_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  std::string base = basename_of(target);
  if (target.empty() || target == "/" || base == "." || base == "..")
    fail_input("{} '{}' cannot be written: name a new or empty directory", label, target);
  target = absolute_path(target);
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail_input("{} {} exists and is not a directory", label, target);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(target.c_str()), ::closedir);
    if (!d) fail_errno("cannot list " + target);
    while (dirent* e = ::readdir(d.get()))
      if (std::string_view n = e->d_name; n != "." && n != "..") fail_input("{} {} is not empty", label, target);
  }
  std::string parent = dirname_of(target);
  if (!is_directory(parent)) fail_input("{} {}: the directory {} does not exist", label, target, parent);
  if (::access(parent.c_str(), W_OK) != 0) fail_input("{} {}: the directory {} is not writable", label, target, parent);
  return target;
}

LayerDirFiles write_layer_dir_files(const std::string& target, const std::string& label,
                                    const EntryProducer& produce, nlohmann::json legacy) {
  TempDir building("." + basename_of(target) + ".strata", dirname_of(target));
  ::chmod(building.path().c_str(), 0755);
  LayerDirFiles out;
  TarsumSink tarsum;
  {
    std::string tar_path = building.path() + "/layer.tar";
    Fd tar_fd = open_or_fail(tar_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FdSink file(tar_fd.get(), tar_path);
    TeeSink both(file, tarsum);
    out.layer = write_layer(produce, Compression::None, both);
    ::fchmod(tar_fd.get(), 0644);
  }
  out.checksum = tarsum.checksum();
  legacy["checksum"] = out.checksum;
  out.id = sha256_hex(legacy.dump());
  legacy["id"] = out.id;
  legacy["Size"] = out.layer.size;
  write_file(building.path() + "/json", legacy.dump() + "\n", 0644);
  write_file(building.path() + "/VERSION", "1.0", 0644);
  if (::rename(building.path().c_str(), target.c_str()) != 0) {
    int err = errno;
    if (err == ENOTEMPTY || err == EEXIST || err == ENOTDIR)
      fail_input("{} {} was filled by someone else meanwhile", label, target);
    fail_errno("cannot move the layer dir to " + target, err);
  }
  building.release();
  return out;
}

} // namespace strata
