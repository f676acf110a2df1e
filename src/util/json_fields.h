// Reading fields of JSON that wattprint did not necessarily write (caches
// another version or a corrupted disk left, answers from a server): a key
// that is missing or of the wrong type gives the default, never an
// exception. nlohmann's value() throws type_error on a wrong type, which
// killed `run` on a corrupted cache.
//
// Private header. Thread safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace wattprint::json_fields {

inline std::string Str(const nlohmann::json& j, const char* key, std::string fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

inline long long Int(const nlohmann::json& j, const char* key, long long fallback = 0) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<long long>() : fallback;
}

}  // namespace wattprint::json_fields
