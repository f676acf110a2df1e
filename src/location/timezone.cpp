// The machine's time zone and its country, from Debian's tzdata tables.
//
// zone.tab lines: "FR<TAB>+4852+00220<TAB>Europe/Paris"; one country per
// zone, and it still lists zones that zone1970.tab merged into others
// (Europe/Stockholm). zone1970.tab lines carry a comma-separated country
// list ("DE,DK,NO,SE,SJ<TAB>...<TAB>Europe/Berlin") whose first entry is the
// country of the zone's principal location (tzdata's file comments).
#include <cctype>
#include <string>

#include "wattprint/location.h"

namespace wattprint {
namespace {

// The country code column for `tz` in a .tab file, or "". Only lines that
// contain the name are split (one substring search per candidate).
std::string FindInTab(std::string_view text, std::string_view tz) {
  if (tz.empty()) return "";
  for (size_t hit = text.find(tz); hit != std::string_view::npos; hit = text.find(tz, hit + 1)) {
    const size_t nl = text.rfind('\n', hit);
    const size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    size_t end = text.find('\n', hit);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(begin, end - begin);
    if (line.empty() || line[0] == '#') continue;
    // codes <TAB> coordinates <TAB> zone [<TAB> comments]
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos) continue;
    const size_t tab3 = line.find('\t', tab2 + 1);
    const std::string_view zone =
        line.substr(tab2 + 1, tab3 == std::string_view::npos ? std::string_view::npos : tab3 - tab2 - 1);
    if (Trim(zone) != tz) continue;
    const std::string_view codes = line.substr(0, tab1);
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
  // UTC and the fixed offsets (Etc/GMT+5) are in no country table: the usual
  // zone of servers and containers needs no file read to say so.
  if (tz.starts_with("Etc/") || tz == "UTC" || tz == "GMT" || tz == "UCT" || tz == "Universal" ||
      tz == "Zulu" || tz == "Greenwich") {
    return Status::NotFound("time zone " + std::string(tz) + " names no country");
  }
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
