// The configuration parsers: TOML files, WATTPRINT_* environment entries and
// single key=value settings. Whatever the bytes, the result is a Config or a
// one-line error; a value that was accepted reads back as text that is
// accepted again.
//
// Input: the first byte picks the parser, the rest is its text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.h"
#include "wattprint/config.h"

using namespace wattprint;

namespace {

// An error says what is wrong (the CLI escapes what it quotes).
void CheckMessage(const Status& st) {
  if (!st.ok()) FUZZ_CHECK(!st.message().empty());
}

// Every key's value, as text, is accepted again by ApplyConfigValue.
void CheckRoundTrip(const Config& cfg) {
  for (const ConfigKey& k : ConfigKeys()) {
    const std::string text = ConfigValueText(cfg, k.key);
    if (text.empty()) continue;  // unset
    Config again;
    const Status st = ApplyConfigValue(&again, k.key, text, std::string("round trip ") + k.key, "fuzz");
    if (!st.ok()) std::fprintf(stderr, "%s = '%s': %s\n", k.key, text.c_str(), st.message().c_str());
    FUZZ_CHECK(st.ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Config cfg;
  Status st;
  switch (data[0] % 3) {
    case 0:
      st = ApplyConfigToml(&cfg, text, "fuzz.toml");
      break;
    case 1: {
      std::vector<std::string> env;
      size_t pos = 0;
      while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        env.emplace_back(text.substr(pos, end - pos));
        pos = end + 1;
      }
      st = ApplyConfigEnvironment(&cfg, env);
      break;
    }
    default: {
      // "key=value"
      const size_t eq = text.find('=');
      if (eq == std::string_view::npos) return 0;
      st = ApplyConfigValue(&cfg, text.substr(0, eq), text.substr(eq + 1), "fuzz", "fuzz");
      break;
    }
  }
  CheckMessage(st);
  if (st.ok()) CheckRoundTrip(cfg);
  return 0;
}
