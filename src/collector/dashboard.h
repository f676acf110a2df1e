// The dashboard's files: compiled into the collector by
// cmake/embed_assets.cmake, or read from a folder at each request (for
// working on the page without a rebuild).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>
#include <vector>

namespace wattprint::collector {

struct EmbeddedAsset {
  const char* name;  // the file name, served as /assets/NAME
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

// Every embedded file, web/dashboard/ and uPlot's (generated).
const std::vector<EmbeddedAsset>& DashboardAssets();

// Serves index.html at / and every file at /assets/NAME, from the embedded
// files, or from `dir` when it is not empty. Pages and files carry a
// Content-Security-Policy that allows only this server's own scripts,
// styles and API.
void AddDashboardRoutes(httplib::Server& http, const std::string& dir);

}  // namespace wattprint::collector
