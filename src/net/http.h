// A minimal HTTP(S) client for the few requests wattprint makes: cloud
// instance metadata and live grid-intensity APIs. It wraps libcurl, which is
// loaded with dlopen on the first request, so `wattprint run` pays nothing
// for it when no request is made (libcurl pulls in about 30 shared objects).
//
// Thread safety: HttpFetch may be called from any number of threads at once;
// each call uses its own curl handle.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "wattprint/status.h"

namespace wattprint::net {

struct HttpRequest {
  std::string method = "GET";  // "GET", "PUT" (AWS IMDSv2 token) or "POST"
  std::string url;
  std::string body;  // sent with PUT and POST
  std::vector<std::pair<std::string, std::string>> headers;  // an empty value removes curl's own
  // Time to establish the connection, and for the whole transfer (DNS,
  // connect, request, response), in milliseconds.
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds timeout{5000};
  // Bypass any configured proxy: instance metadata must never leave the host.
  bool no_proxy = false;
};

struct HttpResponse {
  long status = 0;           // HTTP status code
  std::string body;
  std::string retry_after;   // the Retry-After header, when present
};

// Performs the request. A transport failure (refused, timed out, DNS) is an
// IOError whose message says which ("timed out after 300 ms"); libcurl
// missing is NotSupported. Any HTTP status is a successful response.
Result<HttpResponse> HttpFetch(const HttpRequest& request);

// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view s);

}  // namespace wattprint::net
