// Everyday equivalents of a mass of CO2e. Each factor is a published figure
// with its source and year, repeated in docs/OUTPUTS.md.
#include "wattprint/report.h"

namespace wattprint {
namespace {

// US EPA, "Greenhouse Gas Emissions from a Typical Passenger Vehicle"
// (EPA-420-F-23-014, 2023): a typical passenger vehicle emits about 400 g of
// CO2 per mile. 400 g / 1.609344 km = 248.55 g/km.
constexpr double kCarGramsPerMile = 400.0;
constexpr double kKmPerMile = 1.609344;

// US EPA, Greenhouse Gas Equivalencies Calculator, "Calculations and
// References" (2022 revision): 8.22 x 10^-6 metric tons CO2 per smartphone
// fully charged, i.e. 8.22 g.
constexpr double kPhoneChargeGrams = 8.22;

}  // namespace

std::vector<Equivalent> EverydayEquivalents(Co2e mass) {
  const double g = mass.grams();
  return {
      Equivalent{g / (kCarGramsPerMile / kKmPerMile), "km driven by an average passenger car",
                 "US EPA (2023), typical passenger vehicle: 400 g CO2/mile"},
      Equivalent{g / kPhoneChargeGrams, "smartphone charges",
                 "US EPA GHG Equivalencies Calculator (2022): 8.22e-6 t CO2/charge"},
  };
}

}  // namespace wattprint
