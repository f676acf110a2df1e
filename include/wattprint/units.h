// Strong unit types for energy, power, mass of CO2e and time.
//
// Values are stored in SI base units (joules, watts, grams) as double.
// Arithmetic that would mix units (adding joules to watts) does not compile;
// the few legal cross-unit operations (power x time = energy, energy / time =
// power) are spelled out below.
//
// Thread safety: plain value types; safe to copy between threads.
#pragma once

#include <chrono>
#include <compare>

namespace wattprint {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;
using SystemTime = std::chrono::system_clock::time_point;
// All durations are std::chrono types; Seconds is the floating view used in
// energy arithmetic.
using Duration = std::chrono::nanoseconds;
using Seconds = std::chrono::duration<double>;

template <typename Tag>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double base) : v_(base) {}
  constexpr double value() const { return v_; }

  constexpr Quantity operator+(Quantity o) const { return Quantity(v_ + o.v_); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(v_ - o.v_); }
  constexpr Quantity operator*(double k) const { return Quantity(v_ * k); }
  constexpr Quantity operator/(double k) const { return Quantity(v_ / k); }
  constexpr double operator/(Quantity o) const { return v_ / o.v_; }
  constexpr Quantity& operator+=(Quantity o) { v_ += o.v_; return *this; }
  constexpr Quantity& operator-=(Quantity o) { v_ -= o.v_; return *this; }
  constexpr auto operator<=>(const Quantity&) const = default;

 private:
  double v_ = 0.0;
};

struct EnergyTag {};
struct PowerTag {};
struct MassTag {};

// Energy in joules.
class Energy : public Quantity<EnergyTag> {
 public:
  using Quantity::Quantity;
  constexpr Energy(Quantity<EnergyTag> q) : Quantity(q) {}
  static constexpr Energy Joules(double j) { return Energy(j); }
  static constexpr Energy Microjoules(double uj) { return Energy(uj * 1e-6); }
  static constexpr Energy Millijoules(double mj) { return Energy(mj * 1e-3); }
  static constexpr Energy KilowattHours(double kwh) { return Energy(kwh * 3.6e6); }
  constexpr double joules() const { return value(); }
  constexpr double microjoules() const { return value() * 1e6; }
  constexpr double kwh() const { return value() / 3.6e6; }
};

// Power in watts.
class Power : public Quantity<PowerTag> {
 public:
  using Quantity::Quantity;
  constexpr Power(Quantity<PowerTag> q) : Quantity(q) {}
  static constexpr Power Watts(double w) { return Power(w); }
  static constexpr Power Microwatts(double uw) { return Power(uw * 1e-6); }
  static constexpr Power Milliwatts(double mw) { return Power(mw * 1e-3); }
  constexpr double watts() const { return value(); }
};

// Mass of CO2-equivalent in grams.
class Co2e : public Quantity<MassTag> {
 public:
  using Quantity::Quantity;
  constexpr Co2e(Quantity<MassTag> q) : Quantity(q) {}
  static constexpr Co2e Grams(double g) { return Co2e(g); }
  static constexpr Co2e Kilograms(double kg) { return Co2e(kg * 1e3); }
  constexpr double grams() const { return value(); }
  constexpr double kg() const { return value() * 1e-3; }
};

// Grid carbon intensity in grams CO2e per kWh.
class Intensity : public Quantity<struct IntensityTag> {
 public:
  using Quantity::Quantity;
  static constexpr Intensity GramsPerKwh(double g) { return Intensity(g); }
  constexpr double g_per_kwh() const { return value(); }
};

constexpr Energy operator*(Power p, Seconds s) { return Energy(p.watts() * s.count()); }
constexpr Energy operator*(Seconds s, Power p) { return p * s; }
constexpr Power operator/(Energy e, Seconds s) {
  return s.count() > 0 ? Power(e.joules() / s.count()) : Power(0.0);
}
constexpr Co2e operator*(Energy e, Intensity i) { return Co2e(e.kwh() * i.g_per_kwh()); }

inline Seconds ToSeconds(Duration d) { return std::chrono::duration_cast<Seconds>(d); }

}  // namespace wattprint
