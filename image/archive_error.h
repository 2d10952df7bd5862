// libarchive's message for the last error of an archive, for messages: never null
// (archive_error_string is null when libarchive set none, e.g. for a gzip stream that
// ends inside its header), since fmt refuses a null string.
#pragma once
#include <archive.h>

namespace strata {

inline const char* archive_error_text(archive* a) {
  const char* why = archive_error_string(a);
  return why ? why : "unreadable data (libarchive gives no reason)";
}

} // namespace strata
