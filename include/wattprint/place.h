// A place on the grid as a user or a detection step names it: a country, a
// sub-national region, an Electricity Maps zone, or a cloud region. One
// struct for the configuration, the location steps and the grid lookup.
//
// Thread safety: a value type.
#pragma once

#include <string>

namespace wattprint {

struct Place {
  std::string country;         // ISO3, ISO2 or English name
  std::string region;          // ISO 3166-2 code or name ("US-CA", "California", "Quebec")
  std::string zone;            // Electricity Maps zone key ("SE-SE1")
  std::string cloud_provider;  // aws | gcp | azure (needed with cloud_region)
  std::string cloud_region;    // "eu-west-1", "europe-west9", "westeurope"
  // No grid place (a cloud provider alone places nothing).
  bool empty() const { return country.empty() && region.empty() && zone.empty() && cloud_region.empty(); }
  bool operator==(const Place&) const = default;
};

}  // namespace wattprint
