#include "collector_client.h"

#include <algorithm>

#include "net/http.h"

namespace wattprint::cli {

using nlohmann::json;

Result<Answer> Ask(const Config& cfg, const std::string& method, const std::string& path, const std::string& body,
                   std::chrono::milliseconds timeout) {
  if (cfg.collector_url.empty()) {
    return Status::InvalidArgument("no collector: give --collector URL (or collector_url in wattprint.toml)");
  }
  net::HttpRequest req;
  req.method = method;
  req.url = cfg.collector_url + path;
  req.body = body;
  req.headers = {{"Accept", "application/json"}, {"Expect", ""}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (!cfg.collector_token.empty()) req.headers.emplace_back("Authorization", "Bearer " + cfg.collector_token);
  req.connect_timeout = std::min(timeout, std::chrono::milliseconds(1000));
  req.timeout = timeout;
  Result<net::HttpResponse> r = net::HttpFetch(req);
  if (!r.ok()) return r.status();
  Answer a{r->status, json::parse(r->body, nullptr, false)};
  if (a.body.is_discarded()) return Status::Corrupt("the collector's answer (HTTP " + std::to_string(r->status) + ") is not JSON");
  return a;
}

std::string ErrorOf(const Answer& a) {
  const std::string said = a.body.is_object() && a.body.contains("error") && a.body["error"].is_string()
                               ? a.body["error"].get<std::string>()
                               : "";
  return "HTTP " + std::to_string(a.status) + (said.empty() ? "" : ": " + said);
}

}  // namespace wattprint::cli
