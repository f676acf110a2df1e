// The CLI's requests to the collector (`job`, `budget`, `report`,
// `predict`): the configured URL and token, a timeout, and the reply's
// JSON. Private header.
//
// Thread safety: pure functions over the config (each call has its own
// HTTP handle).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "wattprint/config.h"
#include "wattprint/status.h"

namespace wattprint::cli {

// A reply: its HTTP status and JSON body (an HTTP error status is a reply).
struct Answer {
  long status = 0;
  nlohmann::json body;
};
// InvalidArgument when no collector is configured; the transport's error
// when it cannot be reached; Corrupt when the body is not JSON.
Result<Answer> Ask(const Config& cfg, const std::string& method, const std::string& path, const std::string& body,
                   std::chrono::milliseconds timeout);
// "HTTP 404: no such run" from a reply's status and its "error".
std::string ErrorOf(const Answer& a);

}  // namespace wattprint::cli
