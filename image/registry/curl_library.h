// libcurl, loaded with dlopen() at the first registry request: the commands that never
// talk to a registry (`strata run`, every build to a file) keep loading libc and libm
// only, where linking libcurl would map some thirty shared libraries into every start.
#pragma once
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

namespace strata::registry {

// The libcurl entry points strata calls. Only this table may call into libcurl.
struct CurlApi {
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  CURLcode (*easy_perform)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// The process's one libcurl, loaded (and curl_global_init run) on first call; WorkError
// naming the library when it cannot be loaded.
const CurlApi& curl_api();

} // namespace strata::registry
