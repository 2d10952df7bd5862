// Docker's legacy layer checksum, TarSum version 1 ("tarsum.v1+sha256:<hex>"), as the
// `checksum` of a v1 layer `json` (nixpkgs' mkPureLayer/mkRootLayer run Docker's tarsum
// over layer.tar). Computed from the tar bytes as they stream past (a ByteSink placed
// beside the file the tar goes to), so it costs no second read of the layer.
//
// The algorithm (moby pkg/tarsum, Version1): for each tar member, as Go's archive/tar
// reads it (PAX records and GNU long names applied), sha256 over the header fields
// "name" NAME "mode" MODE "uid" UID "gid" GID "size" SIZE "typeflag" T "linkname" LINK
// "uname" U "gname" G "devmajor" MAJ "devminor" MIN (numbers in decimal, mtime left out)
// followed by each SCHILY.xattr record KEY VALUE in byte order of KEY (security.* and
// system.* left out, except security.capability), then the member's data. The checksum
// is sha256 over the concatenation of the members' hex sums, sorted.
#pragma once
#include "image/digest.h"
#include "image/sink.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata {

// Accepts an uncompressed tar stream (its end-of-archive blocks and what follows are
// ignored). A malformed tar is a WorkError: the bytes come from strata's own writer.
class TarsumSink : public ByteSink {
public:
  TarsumSink();
  void write(const void* data, size_t size) override;
  // "tarsum.v1+sha256:<hex>"; call once, when the whole tar has been written.
  std::string checksum();

private:
  enum class State { Header, Data, Padding, Done };
  void on_header();
  void begin_member(const std::string& header_fields, uint64_t size);
  void end_member();

  State state_ = State::Header;
  std::string block_;             // the header block being filled
  uint64_t left_ = 0, padding_ = 0;
  char kind_ = 0;                 // 'x' PAX, 'L'/'K' GNU long name/link, 'g' global, 0 a member
  std::string meta_;              // data of a meta entry, kept to apply to the next member
  std::map<std::string, std::string> pax_;
  std::string long_name_, long_link_;
  Hasher member_;
  bool in_member_ = false;
  std::vector<std::string> sums_;
};

} // namespace strata
