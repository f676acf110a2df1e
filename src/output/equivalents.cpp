// Everyday equivalents of a run's energy and CO2e. Each factor is a
// published figure with its source and year, repeated in docs/OUTPUTS.md.
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

// US EPA, Greenhouse Gas Equivalencies Calculator, home energy use:
// 8.35 metric tons CO2 per home per year (electricity, natural gas, LPG and
// fuel oil), i.e. 8350 kg / 52 weeks = 160.58 kg a week.
constexpr double kHouseholdWeekKg = 8350.0 / 52.0;

// ADEME (French Agency for Ecological Transition), "Electricite : combien
// consomment les appareils de la maison ?": a television uses about
// 187 kWh a year. A day of an average TV: 187 / 365 kWh. An energy, not a
// mass: the same electricity, whatever the grid.
constexpr double kTvKwhPerDay = 187.0 / 365.0;

}  // namespace

std::vector<Equivalent> EverydayEquivalents(Energy energy, Co2e mass) {
  const double g = mass.grams();
  return {
      Equivalent{"household_week", g / 1000.0 / kHouseholdWeekKg, "of an average US household's weekly emissions",
                 "US EPA GHG Equivalencies Calculator, home energy use: 8.35 t CO2/home/year = 160.58 kg/week"},
      Equivalent{"car_km", g / (kCarGramsPerMile / kKmPerMile), "km driven by an average passenger car",
                 "US EPA (2023), typical passenger vehicle: 400 g CO2/mile"},
      Equivalent{"car_miles", g / kCarGramsPerMile, "miles driven by an average passenger car",
                 "US EPA (2023), typical passenger vehicle: 400 g CO2/mile"},
      Equivalent{"tv_days", energy.kwh() / kTvKwhPerDay, "days of an average TV's electricity",
                 "ADEME: a television uses 187 kWh/year = 0.512 kWh/day"},
      Equivalent{"phone_charges", g / kPhoneChargeGrams, "smartphone charges",
                 "US EPA GHG Equivalencies Calculator (2022): 8.22e-6 t CO2/charge"},
  };
}

}  // namespace wattprint
