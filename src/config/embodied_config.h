// The [embodied_factors.KEY] tables of a config file: changes to the
// manufacturing-emissions table (wattprint/embodied.h), read by
// ApplyConfigToml (config.cpp). Private to src/config.
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "wattprint/config.h"

namespace wattprint {

// Applies `node`, the value of a file's top-level "embodied_factors", to
// cfg->embodied_factors, table by table in the file's order, and records
// each key's origin. Errors are one line naming the file and the key:
// "PATH: embodied_factors.KEY.lifetime_years: must be more than 0 ...".
Status ApplyEmbodiedTables(Config* cfg, const toml::node& node, const std::string& path);

}  // namespace wattprint
