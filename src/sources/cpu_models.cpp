// The CPU family table and the /proc/cpuinfo matcher. See cpu_models.h.
#include "sources/cpu_models.h"

#include <algorithm>

#include <charconv>
#include <cstdio>
#include <optional>

#include "wattprint/fs.h"

namespace wattprint::sources {
namespace {

// Cloud Carbon Footprint per-vCPU min/max watts (ComputeProcessorTypes.ts,
// min_watts_avg / max_watts_avg). Haswell: the current CCF code has
// 1.00/4.74 W; the 2021 methodology table listed 1.90/6.01 W.
constexpr CpuCoefficients kCascadeLake{"Cascade Lake", 0.64, 3.97};
constexpr CpuCoefficients kSkylake{"Skylake", 0.65, 4.26};
constexpr CpuCoefficients kBroadwell{"Broadwell", 0.71, 3.69};
constexpr CpuCoefficients kHaswell{"Haswell", 1.00, 4.74};
constexpr CpuCoefficients kCoffeeLake{"Coffee Lake", 1.14, 5.42};
constexpr CpuCoefficients kSandyBridge{"Sandy Bridge", 2.17, 8.58};
constexpr CpuCoefficients kIvyBridge{"Ivy Bridge", 3.04, 8.25};
constexpr CpuCoefficients kEpyc1{"AMD EPYC 1st Gen", 0.82, 2.55};
constexpr CpuCoefficients kEpyc2{"AMD EPYC 2nd Gen", 0.47, 1.69};
constexpr CpuCoefficients kEpyc3{"AMD EPYC 3rd Gen", 0.45, 2.02};
// CCF applies EPYC 2nd Gen figures to both Graviton generations.
constexpr CpuCoefficients kGraviton{"AWS Graviton", 0.47, 1.69};
constexpr CpuCoefficients kGraviton2{"AWS Graviton2", 0.47, 1.69};

constexpr const CpuCoefficients* kRows[] = {&kCascadeLake, &kSkylake, &kBroadwell, &kHaswell,
                                            &kCoffeeLake,  &kSandyBridge, &kIvyBridge, &kEpyc1,
                                            &kEpyc2,       &kEpyc3,       &kGraviton,  &kGraviton2};

// A recognised family; `figures` is null when CCF publishes none for it.
struct Family {
  const char* name;
  const CpuCoefficients* figures;
};

constexpr Family kFamSandy{"Intel Sandy Bridge", &kSandyBridge};
constexpr Family kFamIvy{"Intel Ivy Bridge", &kIvyBridge};
constexpr Family kFamHaswell{"Intel Haswell", &kHaswell};
constexpr Family kFamBroadwell{"Intel Broadwell", &kBroadwell};
constexpr Family kFamSkylake{"Intel Skylake", &kSkylake};
constexpr Family kFamCascade{"Intel Cascade Lake", &kCascadeLake};
constexpr Family kFamCoffee{"Intel Kaby/Coffee/Comet Lake", &kCoffeeLake};
constexpr Family kFamIceLake{"Intel Ice Lake", nullptr};
constexpr Family kFamSapphire{"Intel Sapphire Rapids", nullptr};
constexpr Family kFamEmerald{"Intel Emerald Rapids", nullptr};
constexpr Family kFamEpyc1{"AMD EPYC 1st gen (Naples)", &kEpyc1};
constexpr Family kFamEpyc2{"AMD EPYC 2nd gen (Rome)", &kEpyc2};
constexpr Family kFamEpyc3{"AMD EPYC 3rd gen (Milan)", &kEpyc3};
constexpr Family kFamEpyc4{"AMD EPYC 4th gen (Genoa/Bergamo/Siena)", nullptr};
constexpr Family kFamGraviton{"AWS Graviton (Cortex-A72)", &kGraviton};
constexpr Family kFamN1{"Arm Neoverse N1 (Graviton2, Ampere Altra)", &kGraviton2};
constexpr Family kFamV1{"Arm Neoverse V1 (Graviton3)", nullptr};
constexpr Family kFamV2{"Arm Neoverse V2 (Graviton4, Grace)", nullptr};
constexpr Family kFamN2{"Arm Neoverse N2", nullptr};
constexpr Family kFamApple{"Apple silicon", nullptr};

struct Found {
  const Family* family;
  std::string how;
};

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// The 4-character model number after `marker`, e.g. "7R32" after "EPYC ".
std::string_view ModelNumber(std::string_view name, std::string_view marker) {
  size_t p = name.find(marker);
  if (p == std::string_view::npos) return {};
  std::string_view rest = name.substr(p + marker.size());
  size_t n = 0;
  while (n < rest.size() && rest[n] != ' ' && rest[n] != '@') ++n;
  return rest.substr(0, n);
}

// EPYC model numbers end in the generation: 7551 (1), 7R32 (2), 7763 (3),
// 9654 (4); AMD's numbering scheme, 2017-2023.
std::optional<Found> FromEpycName(std::string_view name) {
  std::string_view num = ModelNumber(name, "EPYC ");
  if (num.size() != 4) return std::nullopt;
  const std::string how = "model name EPYC " + std::string(num) + ": last digit is the generation";
  switch (num[3]) {
    case '1': return Found{&kFamEpyc1, how};
    case '2': return Found{&kFamEpyc2, how};
    case '3': return Found{&kFamEpyc3, how};
    case '4': return Found{&kFamEpyc4, how};
    default: return std::nullopt;
  }
}

// Xeon Scalable: the second digit of Platinum/Gold/Silver/Bronze numbers is
// the generation (8175 Skylake, 8259 Cascade Lake, 8375 Ice Lake, 8488
// Sapphire Rapids, 8581 Emerald Rapids).
std::optional<Found> FromXeonScalableName(std::string_view name) {
  for (std::string_view tier : {"Platinum ", "Gold ", "Silver ", "Bronze "}) {
    std::string_view num = ModelNumber(name, tier);
    if (num.size() < 4) continue;
    const std::string how = "model name Xeon " + std::string(tier) + std::string(num) + ": second digit is the generation";
    switch (num[1]) {
      case '1': return Found{&kFamSkylake, how};
      case '2': return Found{&kFamCascade, how};
      case '3': return Found{&kFamIceLake, how};
      case '4': return Found{&kFamSapphire, how};
      case '5': return Found{&kFamEmerald, how};
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

// Xeon E3/E5/E7: "v2" Ivy Bridge, "v3" Haswell, "v4" Broadwell, no suffix
// Sandy Bridge (E3-1200 v5/v6 are Skylake/Kaby Lake).
std::optional<Found> FromXeonEName(std::string_view name) {
  size_t p = name.find(" E5-");
  if (p == std::string_view::npos) p = name.find(" E7-");
  if (p == std::string_view::npos) p = name.find(" E3-");
  if (p == std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(p + 1);
  const size_t end = rest.find('@');
  rest = Trim(rest.substr(0, end));
  const std::string how = "model name Xeon " + std::string(rest) + ": version suffix";
  if (Contains(rest, " v6") || Contains(rest, " v5")) return Found{&kFamSkylake, how};
  if (Contains(rest, " v4")) return Found{&kFamBroadwell, how};
  if (Contains(rest, " v3")) return Found{&kFamHaswell, how};
  if (Contains(rest, " v2")) return Found{&kFamIvy, how};
  return Found{&kFamSandy, how};
}

// Names QEMU/KVM gives virtual CPUs: "Intel Xeon Processor (Cascadelake)",
// "AMD EPYC-Rome Processor".
std::optional<Found> FromVirtualName(std::string_view name) {
  struct Key {
    std::string_view text;
    const Family* family;
  };
  static constexpr Key kKeys[] = {
      {"(Cascadelake", &kFamCascade}, {"(Skylake", &kFamSkylake},     {"(Icelake", &kFamIceLake},
      {"(SapphireRapids", &kFamSapphire}, {"(Broadwell", &kFamBroadwell}, {"(Haswell", &kFamHaswell},
      {"(IvyBridge", &kFamIvy},       {"(SandyBridge", &kFamSandy},    {"EPYC-Rome", &kFamEpyc2},
      {"EPYC-Milan", &kFamEpyc3},     {"EPYC-Genoa", &kFamEpyc4},      {"Apple M", &kFamApple},
  };
  for (const Key& k : kKeys) {
    if (Contains(name, k.text)) return Found{k.family, "model name contains \"" + std::string(k.text) + "\""};
  }
  return std::nullopt;
}

// x86 family/model numbers, after Linux arch/x86/include/asm/intel-family.h
// and AMD's processor programming references.
std::optional<Found> FromX86Numbers(const CpuInfoSummary& c) {
  const std::string how = "cpu family " + std::to_string(c.family) + " model " + std::to_string(c.model);
  if (c.vendor == "GenuineIntel" && c.family == 6) {
    switch (c.model) {
      case 42: case 45: return Found{&kFamSandy, how};
      case 58: case 62: return Found{&kFamIvy, how};
      case 60: case 63: case 69: case 70: return Found{&kFamHaswell, how};
      case 61: case 71: case 79: case 86: return Found{&kFamBroadwell, how};
      case 78: case 94: return Found{&kFamSkylake, how};
      // Skylake-SP and Cascade Lake share model 85; Cascade Lake is stepping 5-7.
      case 85: return Found{c.stepping >= 5 ? &kFamCascade : &kFamSkylake, how + " stepping " + std::to_string(c.stepping)};
      case 142: case 158: case 165: case 166: return Found{&kFamCoffee, how};
      case 106: case 108: case 125: case 126: return Found{&kFamIceLake, how};
      case 143: return Found{&kFamSapphire, how};
      case 207: return Found{&kFamEmerald, how};
      default: return std::nullopt;
    }
  }
  if (c.vendor == "AuthenticAMD") {
    if (c.family == 23 && c.model == 1) return Found{&kFamEpyc1, how};
    if (c.family == 23 && c.model == 49) return Found{&kFamEpyc2, how};
    if (c.family == 25 && c.model == 1) return Found{&kFamEpyc3, how};
    if (c.family == 25 && (c.model == 17 || c.model == 160)) return Found{&kFamEpyc4, how};
  }
  return std::nullopt;
}

// arm64 MIDR fields: implementer 0x41 (Arm) parts, 0x61 Apple.
std::optional<Found> FromArmIds(const CpuInfoSummary& c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "CPU implementer 0x%x part 0x%x", c.implementer, c.part);
  if (c.implementer == 0x61) return Found{&kFamApple, buf};
  if (c.implementer != 0x41) return std::nullopt;
  switch (c.part) {
    case 0xd08: return Found{&kFamGraviton, buf};
    case 0xd0c: return Found{&kFamN1, buf};
    case 0xd40: return Found{&kFamV1, buf};
    case 0xd49: return Found{&kFamN2, buf};
    case 0xd4f: return Found{&kFamV2, buf};
    default: return std::nullopt;
  }
}

std::optional<Found> Recognise(const CpuInfoSummary& c) {
  const std::string_view name = c.model_name;
  if (Contains(name, "EPYC")) {
    if (auto f = FromEpycName(name)) return f;
  }
  if (Contains(name, "Xeon")) {
    if (auto f = FromXeonScalableName(name)) return f;
    if (auto f = FromXeonEName(name)) return f;
  }
  if (auto f = FromVirtualName(name)) return f;
  if (auto f = FromX86Numbers(c)) return f;
  return FromArmIds(c);
}

// Parses "0x41" or "6" as an int; -1 when malformed.
int ParseInt(std::string_view v) {
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    v.remove_prefix(2);
    base = 16;
  }
  int out = -1;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  return ec == std::errc() && p == v.data() + v.size() ? out : -1;
}

}  // namespace

CpuInfoSummary ParseCpuInfo(std::string_view text) {
  CpuInfoSummary c;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (key == "processor") {
      ++c.processors;
      continue;
    }
    if (c.processors > 1) continue;  // describe the first processor only
    if (key == "model name" && c.model_name.empty()) c.model_name = std::string(value);
    else if (key == "vendor_id") c.vendor = std::string(value);
    else if (key == "cpu family") c.family = ParseInt(value);
    else if (key == "model") c.model = ParseInt(value);
    else if (key == "stepping") c.stepping = ParseInt(value);
    else if (key == "CPU implementer") c.implementer = ParseInt(value);
    else if (key == "CPU part") c.part = ParseInt(value);
  }
  return c;
}

CpuModelChoice ChooseCpuModel(const CpuInfoSummary& cpu) {
  CpuModelChoice out;
  std::optional<Found> f = Recognise(cpu);
  if (!f) {
    out.match = "not recognised (model name \"" + cpu.model_name + "\"); CCF average used";
    return out;
  }
  out.family = f->family->name;
  if (f->family->figures) {
    out.coefficients = *f->family->figures;
    out.family_has_figures = true;
    out.match = f->how;
  } else {
    out.match = f->how + "; CCF publishes no figures for this family; CCF average used";
  }
  return out;
}

CpuCoefficients LowestCpuRow() {
  CpuCoefficients out{"lowest CCF row", kRows[0]->idle_w_per_vcpu, kRows[0]->max_w_per_vcpu};
  for (const CpuCoefficients* r : kRows) {
    out.idle_w_per_vcpu = std::min(out.idle_w_per_vcpu, r->idle_w_per_vcpu);
    out.max_w_per_vcpu = std::min(out.max_w_per_vcpu, r->max_w_per_vcpu);
  }
  return out;
}

CpuCoefficients HighestCpuRow() {
  CpuCoefficients out{"highest CCF row", kRows[0]->idle_w_per_vcpu, kRows[0]->max_w_per_vcpu};
  for (const CpuCoefficients* r : kRows) {
    out.idle_w_per_vcpu = std::max(out.idle_w_per_vcpu, r->idle_w_per_vcpu);
    out.max_w_per_vcpu = std::max(out.max_w_per_vcpu, r->max_w_per_vcpu);
  }
  return out;
}

}  // namespace wattprint::sources
