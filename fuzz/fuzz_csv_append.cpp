// Appending a row to an emissions CSV that already holds arbitrary bytes (a
// CodeCarbon file, another version's header, a truncated or binary file).
// The old bytes are always kept: the row is appended after them, or, when
// the header differs, goes to a sibling file and the original is untouched.
//
// Input: the bytes of the existing emissions.csv.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "check.h"
#include "wattprint/report.h"

using namespace wattprint;

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string& Dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/wattprint-fuzz-csv-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    return std::string(d);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = Dir();
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove(e.path());
  const std::string path = dir + "/emissions.csv";
  const std::string old(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(path, std::ios::binary);
    out << old;
  }
  CsvRow row;
  for (size_t i = 0; i < kCsvColumns.size(); ++i) row.fields.push_back(i % 3 == 0 ? "a,\"b\"" : "1.5");
  std::string written_to, note;
  const Status st = AppendCsvRow(dir, "emissions.csv", row, &written_to, &note);
  const std::string now = Slurp(path);
  if (!st.ok()) {
    FUZZ_CHECK(now == old);  // a failure changes nothing
    return 0;
  }
  if (std::filesystem::equivalent(written_to, path)) {
    FUZZ_CHECK(now.size() > old.size());
    FUZZ_CHECK(now.compare(0, old.size(), old) == 0);
    FUZZ_CHECK(now.back() == '\n');
  } else {
    FUZZ_CHECK(now == old);
    FUZZ_CHECK(!note.empty());
    const std::string sibling = Slurp(written_to);
    FUZZ_CHECK(!sibling.empty() && sibling.back() == '\n');
  }
  return 0;
}
