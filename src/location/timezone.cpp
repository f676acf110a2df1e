// The machine's time zone and its country, from Debian's tzdata tables.
//
// zone.tab lines: "FR<TAB>+4852+00220<TAB>Europe/Paris"; one country per
// zone, and it still lists zones that zone1970.tab merged into others
// (Europe/Stockholm). zone1970.tab lines carry a comma-separated country
// list ("DE,DK,NO,SE,SJ<TAB>...<TAB>Europe/Berlin") whose first entry is the
// country of the zone's principal location (tzdata's file comments).
#include <cctype>
#include <string>
#include <vector>

#include "wattprint/location.h"

namespace wattprint {
namespace {

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

// The country code column for `tz` in a .tab file, or "".
std::string FindInTab(std::string_view text, std::string_view tz) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string_view> cols = SplitTabs(line);
    if (cols.size() < 3 || Trim(cols[2]) != tz) continue;
    const std::string_view codes = cols[0];
    return std::string(codes.substr(0, codes.find(',')));
  }
  return "";
}

bool ValidCountryCode(std::string_view c) {
  return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

// "Europe/Paris" or "America/Argentina/Buenos_Aires": letters, '_', '-',
// '+', digits, and at least one '/'. Rejects POSIX rules ("CET-1CEST") and
// paths trying to leave the zoneinfo directory.
bool LooksLikeZoneName(std::string_view s) {
  if (s.empty() || s.find('/') == std::string_view::npos || s.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' ||
                    c == '-' || c == '+';
    if (!ok) return false;
  }
  return s.front() != '/';
}

}  // namespace

Result<std::string> MachineTimeZone(const TimeZoneOptions& o, const FileSystem& fs) {
  if (o.tz_env) {
    std::string_view tz = Trim(*o.tz_env);
    if (!tz.empty() && tz.front() == ':') tz.remove_prefix(1);
    // Some systems set TZ to a file path: keep what follows "zoneinfo/".
    const size_t z = tz.find("zoneinfo/");
    if (z != std::string_view::npos) tz.remove_prefix(z + 9);
    if (tz == "UTC" || tz == "GMT" || LooksLikeZoneName(tz)) return std::string(tz);
    return Status::NotFound("TZ='" + *o.tz_env + "' is not a time zone name");
  }
  Result<std::string> link = fs.ReadLink(SystemRoots::Join(o.etc_dir, "localtime"));
  if (link.ok()) {
    const size_t z = link->find("zoneinfo/");
    if (z != std::string::npos) return link->substr(z + 9);
  }
  Result<std::string> text = fs.ReadFile(SystemRoots::Join(o.etc_dir, "timezone"));
  if (text.ok() && !Trim(*text).empty()) return std::string(Trim(*text));
  return Status::NotFound("no TZ, no /etc/localtime link and no /etc/timezone");
}

Result<std::string> CountryOfTimeZone(std::string_view tz, const TimeZoneOptions& o,
                                      const FileSystem& fs) {
  std::string why;
  for (const char* table : {"zone.tab", "zone1970.tab"}) {
    const std::string path = SystemRoots::Join(o.zoneinfo_dir, table);
    Result<std::string> text = fs.ReadFile(path);
    if (!text.ok()) {
      why += (why.empty() ? "" : "; ") + text.status().message();
      continue;
    }
    const std::string code = FindInTab(*text, tz);
    if (ValidCountryCode(code)) return code;
  }
  if (!why.empty()) return Status::NotFound("time zone " + std::string(tz) + ": " + why);
  return Status::NotFound("time zone " + std::string(tz) + " names no country");
}

}  // namespace wattprint
