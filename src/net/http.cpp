// libcurl behind dlopen; see http.h. The curl headers give the types and
// option numbers; the functions come from libcurl.so.4 at run time.
#include "net/http.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <cctype>
#include <memory>
#include <mutex>

#include <fmt/format.h>

namespace wattprint::net {
namespace {

struct CurlApi {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  std::string error;  // why loading failed; empty when usable
};

template <typename F>
bool Resolve(void* lib, const char* name, F* out) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  return *out != nullptr;
}

CurlApi LoadCurl() {
  CurlApi api;
  void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    api.error = "libcurl.so.4 not found (install libcurl4): " + std::string(dlerror());
    return api;
  }
  const bool ok = Resolve(lib, "curl_global_init", &api.global_init) &&
                  Resolve(lib, "curl_easy_init", &api.easy_init) &&
                  Resolve(lib, "curl_easy_setopt", &api.easy_setopt) &&
                  Resolve(lib, "curl_easy_perform", &api.easy_perform) &&
                  Resolve(lib, "curl_easy_getinfo", &api.easy_getinfo) &&
                  Resolve(lib, "curl_easy_cleanup", &api.easy_cleanup) &&
                  Resolve(lib, "curl_easy_strerror", &api.easy_strerror) &&
                  Resolve(lib, "curl_slist_append", &api.slist_append) &&
                  Resolve(lib, "curl_slist_free_all", &api.slist_free_all);
  if (!ok) {
    api.error = "libcurl.so.4 lacks a required function";
    return api;
  }
  // curl_global_init is not thread-safe before 7.84; it runs here, once,
  // under the call_once below.
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) api.error = "curl_global_init failed";
  return api;
}

// The library is process-wide state by nature (one dlopen, one global init);
// it is loaded once and never changes afterwards, so sharing it is safe.
const CurlApi& Curl() {
  static std::once_flag once;
  static CurlApi api;
  std::call_once(once, [] { api = LoadCurl(); });
  return api;
}

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string v(line.substr(kName.size()));
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
      *static_cast<std::string*>(user) = v;
    }
  }
  return size * n;
}

std::string TransportError(const CurlApi& api, CURLcode rc, const HttpRequest& req) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return fmt::format("timed out after {} ms", req.timeout.count());
    case CURLE_COULDNT_CONNECT:
      return "connection refused or unreachable";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "host name not resolved";
    default:
      return api.easy_strerror(rc);
  }
}

}  // namespace

Result<HttpResponse> HttpFetch(const HttpRequest& req) {
  const CurlApi& api = Curl();
  if (!api.error.empty()) return Status::NotSupported(api.error);
  std::unique_ptr<CURL, void (*)(CURL*)> h(api.easy_init(), api.easy_cleanup);
  if (!h) return Status::IOError("curl_easy_init failed");
  curl_slist* headers = nullptr;
  // An empty value removes a header curl would add ("Expect:").
  for (const auto& [k, v] : req.headers) {
    headers = api.slist_append(headers, (v.empty() ? k + ":" : k + ": " + v).c_str());
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> hold(headers, api.slist_free_all);
  HttpResponse resp;
  CURL* c = h.get();
  api.easy_setopt(c, CURLOPT_URL, req.url.c_str());
  // Signals must not be used for timeouts in a multi-threaded program.
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_USERAGENT, "wattprint/" WATTPRINT_VERSION);
  if (req.no_proxy) api.easy_setopt(c, CURLOPT_NOPROXY, "*");
  if (req.method == "PUT" || req.method == "POST") {
    if (req.method == "PUT") api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    api.easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
  }
  api.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, &AppendBody);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, &ReadHeader);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &resp.retry_after);
  const CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) return Status::IOError(TransportError(api, rc, req));
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

}  // namespace wattprint::net
