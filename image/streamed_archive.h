// The members of a compressed image archive (.tar.gz, .tar.zst), catalogued in one
// streaming pass: every member's size, digest and first bytes, and the contents of
// those that look like JSON (manifests, indexes, configs). Nothing is staged on disk
// and no layer is held in memory. Internal to the readers (image_reader.cpp).
#pragma once
#include "image/image_members.h"
#include "sys/fd.h"

#include <map>
#include <string>

namespace strata {

// At most this much JSON-looking content is kept from one archive (a hostile archive
// cannot make `inspect` hold more).
inline constexpr uint64_t max_kept_json_bytes = 128u << 20;

class StreamedArchive : public ImageMembers {
public:
  // Reads the whole archive at fd; InputError (naming `what`) when it is corrupt.
  StreamedArchive(Fd fd, const std::string& what);

  std::string read(const std::string& name) const override;
  bool exists(const std::string& name) const override { return find(name) != nullptr; }
  std::optional<Facts> facts(const std::string& name) const override;

private:
  struct Member {
    Facts facts;
    char type = '0'; // '0' file, '1' hard link, '2' symlink, '5' other
    std::string link_target;
    bool kept = false;
    std::string content;
  };
  const Member* find(const std::string& name) const; // follows links, as TarIndex does

  std::string what_;
  std::map<std::string, Member> members_;
};

} // namespace strata
