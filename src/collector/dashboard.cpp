#include "collector/dashboard.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace wattprint::collector {

namespace {

// No inline script or style, nothing from another origin, no framing.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct File {
  std::string body;
  std::string content_type;
};

bool SafeName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<File> Embedded(const std::string& name) {
  for (const EmbeddedAsset& a : DashboardAssets()) {
    if (name == a.name) return File{std::string(reinterpret_cast<const char*>(a.data), a.size), a.content_type};
  }
  return std::nullopt;
}

// From the folder: the content type of the embedded file of that name (so
// the two ways serve alike), uPlot's files from the embedded copy.
std::optional<File> FromDir(const std::string& dir, const std::string& name) {
  std::optional<File> embedded = Embedded(name);
  std::ifstream in(dir + "/" + name, std::ios::binary);
  if (!in) return embedded;
  std::ostringstream text;
  text << in.rdbuf();
  const auto ends = [&](const char* ext) {
    return name.size() > std::strlen(ext) && name.compare(name.size() - std::strlen(ext), std::string::npos, ext) == 0;
  };
  std::string type = embedded ? embedded->content_type
                     : ends(".js")   ? "text/javascript; charset=utf-8"
                     : ends(".css")  ? "text/css; charset=utf-8"
                     : ends(".html") ? "text/html; charset=utf-8"
                     : ends(".svg")  ? "image/svg+xml"
                                     : "application/octet-stream";
  return File{text.str(), type};
}

// A validator of the file's bytes (FNV-1a, 64 bits): a browser revalidates
// each file (no-cache) and gets 304 with no body while it is unchanged.
std::string ETagOf(const std::string& body) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : body) h = (h ^ c) * 1099511628211ull;
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(h));
  return text;
}

void Send(const httplib::Request& req, httplib::Response& res, const std::optional<File>& f) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  if (!f) {
    res.status = 404;
    res.set_content("no such file\n", "text/plain; charset=utf-8");
    return;
  }
  const std::string etag = ETagOf(f->body);
  res.set_header("ETag", etag);
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.set_content(f->body, f->content_type);
}

}  // namespace

void AddDashboardRoutes(httplib::Server& http, const std::string& dir) {
  auto get = [dir](const std::string& name) { return dir.empty() ? Embedded(name) : FromDir(dir, name); };
  http.Get("/", [get](const httplib::Request& req, httplib::Response& res) { Send(req, res, get("index.html")); });
  http.Get(R"(/assets/([^/]+))", [get](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    Send(req, res, SafeName(name) ? get(name) : std::nullopt);
  });
}

}  // namespace wattprint::collector
