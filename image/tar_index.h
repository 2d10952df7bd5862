// Random access to the members of an (uncompressed) outer image archive: docker-archive
// and oci-archive files. Reads only headers; member data is read in place.
#pragma once
#include "image/sink.h"
#include "sys/fd.h"

#include <cstdint>
#include <map>
#include <string>

namespace strata {

class TarIndex {
public:
  struct Member {
    uint64_t offset = 0; // of the data
    uint64_t size = 0;
    char type = '0';
    std::string link_target;
  };

  // Reads every header of the tar at fd; InputError (naming `what`) if it is not a
  // well-formed tar or is truncated.
  TarIndex(int fd, std::string what);

  const Member* find(const std::string& name) const; // follows symlinks/hardlinks
  std::string read(const std::string& name) const;   // whole member (small ones: JSON)
  void copy(const std::string& name, ByteSink& out) const;
  // The same, for a member known to the caller.
  void copy(const Member& m, ByteSink& out) const;
  const std::map<std::string, Member>& members() const { return members_; }
  int fd() const { return fd_; }

private:
  int fd_;
  std::string what_;
  std::map<std::string, Member> members_;
};

// Normalises a member name: strips "./" and trailing "/".
std::string normalise_member_name(std::string name);

} // namespace strata
