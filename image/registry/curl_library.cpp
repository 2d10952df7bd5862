#include "image/registry/curl_library.h"

#include "sys/error.h"

#include <dlfcn.h>
#include <mutex>

namespace strata::registry {
namespace {

// The handle of the loaded library; it stays loaded until the process ends (libcurl's
// global state and OpenSSL's atexit handlers must not outlive their code).
class CurlLibrary {
public:
  CurlLibrary() {
    handle_ = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!handle_)
      fail_work("talking to a registry needs libcurl (Debian package libcurl4), which cannot be loaded: {}",
                ::dlerror());
    resolve(api_.easy_init, "curl_easy_init");
    resolve(api_.easy_cleanup, "curl_easy_cleanup");
    resolve(api_.easy_reset, "curl_easy_reset");
    resolve(api_.easy_setopt, "curl_easy_setopt");
    resolve(api_.easy_getinfo, "curl_easy_getinfo");
    resolve(api_.easy_perform, "curl_easy_perform");
    resolve(api_.easy_strerror, "curl_easy_strerror");
    resolve(api_.slist_append, "curl_slist_append");
    resolve(api_.slist_free_all, "curl_slist_free_all");
    CURLcode (*global_init)(long) = nullptr;
    resolve(global_init, "curl_global_init");
    if (CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      fail_work("libcurl cannot be initialised: {}", api_.easy_strerror(rc));
  }
  CurlLibrary(const CurlLibrary&) = delete;
  CurlLibrary& operator=(const CurlLibrary&) = delete;

  const CurlApi& api() const { return api_; }

private:
  template <typename Fn> void resolve(Fn& fn, const char* name) {
    fn = reinterpret_cast<Fn>(::dlsym(handle_, name));
    if (!fn) fail_work("libcurl.so.4 has no {}: an unsupported libcurl", name);
  }

  void* handle_ = nullptr;
  CurlApi api_{};
};

} // namespace

const CurlApi& curl_api() {
  static std::once_flag once;
  static CurlLibrary* library = nullptr;
  std::call_once(once, [] { library = new CurlLibrary(); }); // never unloaded: see CurlLibrary
  return library->api();
}

} // namespace strata::registry
