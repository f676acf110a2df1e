// The human summary printed on stderr after `wattprint run`, and the one-line
// live status. Compact (about a dozen lines), aligned, and explicit about
// where each figure comes from.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "output/format.h"
#include "wattprint/report.h"
#include "wattprint/run_record.h"

namespace wattprint {
namespace {

constexpr int kLabelWidth = 12;

// Four significant digits: enough to read, and tiny values stay visible.
std::string Sig(double v) { return fmt::format("{:.4g}", v); }

std::string EnergyText(Energy e) { return fmt::format("{} kWh ({} J)", Sig(e.kwh()), Sig(e.joules())); }

std::string MassText(Co2e m) {
  return m.grams() >= 1000 ? fmt::format("{} kg CO2e", Sig(m.kg()))
                           : fmt::format("{} g CO2e", Sig(m.grams()));
}

void Line(std::string& out, std::string_view label, std::string_view text) {
  out += fmt::format("  {:<{}}{}\n", label, kLabelWidth, text);
}

std::string CommandText(const RunMetadata& m) {
  std::string cmd;
  for (const auto& a : m.command) cmd += (cmd.empty() ? "" : " ") + a;
  std::string status;
  if (m.signal) status = fmt::format(" (killed by signal {})", *m.signal);
  else if (m.exit_code) status = fmt::format(" (exit {})", *m.exit_code);
  return cmd.empty() ? "wattprint" : fmt::format("wattprint: {}{}", cmd, status);
}

// One line per GPU under the gpu total: its energy in the chosen scope,
// or why it has none, and how it was measured.
void GpuLines(std::string& out, const Figures& f, Scope s, const Ledger& ledger) {
  const auto& infos = ledger.channels();
  for (size_t c = 0; c < infos.size() && c < f.totals.channels.size(); ++c) {
    if (infos[c].kind != DeviceKind::kGpu) continue;
    const ChannelTotal& ct = f.totals.channels[c];
    std::string text;
    if (ct.ok_intervals == 0) {
      const Status& st = ledger.last_status()[c];
      text = "unavailable: " + (st.ok() ? std::string("no complete interval") : st.ToString());
    } else if (s == Scope::kProcess && !ct.process_ok) {
      text = "process share unknown";
    } else {
      text = EnergyText(s == Scope::kMachine ? ct.machine : ct.process);
      text += infos[c].method == Method::kMeasuredCounter ? "  measured counter" : "  measured power";
      if (ct.missing_intervals > 0) {
        text += "  (some intervals unknown: lower bound)";
      } else if (ct.lower_bound) {
        text += "  (wraps may be missing: lower bound)";
      }
    }
    Line(out, "", fmt::format("{}: {}", infos[c].label, text));
  }
}

void KindLines(std::string& out, const Figures& f, Scope s, const Ledger* ledger) {
  for (const KindFigure& k : f.kinds) {
    if (k.channels == 0) continue;
    const char* name = ToString(k.kind);
    if (!k.known) {
      std::string why = "no reading";
      for (size_t c = 0; ledger && c < ledger->channels().size(); ++c) {
        if (ledger->channels()[c].kind == k.kind && !ledger->last_status()[c].ok()) {
          why = ledger->last_status()[c].ToString();
          break;
        }
      }
      Line(out, name, "unavailable: " + why);
      continue;
    }
    const bool unknown_share = s == Scope::kProcess && !k.process_ok;
    std::string text = fmt::format("{}  {}",
                                   unknown_share ? std::string("process share unknown")
                                                 : EnergyText(k.Of(s)),
                                   DescribeMethod(k));
    if (k.estimated() && !unknown_share) {
      // The model's bounds: an estimate is a range, not one figure.
      const Energy lo = s == Scope::kMachine ? k.machine_low : k.process_low;
      const Energy hi = s == Scope::kMachine ? k.machine_high : k.process_high;
      text += fmt::format("  (bounds {}-{} J)", Sig(lo.joules()), Sig(hi.joules()));
    }
    if (!k.counted) text += "  (includes cpu; not added)";
    if (!k.complete) {
      text += "  (some intervals unknown: lower bound)";
    } else if (k.lower_bound) {
      text += "  (a gap or suspend may hide wraps: lower bound)";
    }
    Line(out, name, text);
    if (k.kind == DeviceKind::kGpu && ledger) GpuLines(out, f, s, *ledger);
  }
}

void ScopeLines(std::string& out, std::string_view label, Scope chosen, const std::string& machine,
                const std::string& process) {
  const char* used = "  <- feeds emissions";
  Line(out, label, fmt::format("machine {}{}", machine, chosen == Scope::kMachine ? used : ""));
  Line(out, "", fmt::format("process {}{}", process, chosen == Scope::kProcess ? used : ""));
}

void IntensityLines(std::string& out, const IntensityTimeline& tl) {
  const IntensityProvenance& p = tl.provenance;
  const double g = tl.points.empty() ? 0.0 : tl.points.front().value.g_per_kwh();
  const std::string where = p.country_name.empty()
                                ? (p.is_default ? std::string("world average") : p.zone)
                                : fmt::format("{} ({})", p.country_name, p.country_iso3);
  std::string text = fmt::format("{} g CO2e/kWh{}, {}; {}", Sig(g),
                                 tl.points.size() > 1 ? " (first of a timeline)" : "", where,
                                 p.source);
  if (p.year > 0 && p.source.find(std::to_string(p.year)) == std::string::npos) {
    text += fmt::format(", {}", p.year);
  }
  Line(out, "intensity", text);
  if (p.is_default) {
    // One line: what was tried (when location detection ran) and the fix.
    constexpr const char* kFix = "pass --country, --zone or --region";
    if (p.location_step.empty() || p.resolution.empty()) {
      Line(out, "", fmt::format("location not configured: world average used; {}", kFix));
    } else {
      Line(out, "", fmt::format("location: {}; {}", p.resolution, kFix));
    }
  } else if (!p.resolution.empty()) {
    Line(out, "", "location: " + p.resolution +
                      (p.location_step.empty() ? "" : " [step: " + p.location_step + "]"));
  }
  if (tl.points.size() > 1) {
    Line(out, "", fmt::format("time-varying: {} readings applied interval by interval", tl.points.size()));
  }
  if (!p.note.empty()) Line(out, "note", p.note);
}

// Manufacturing emissions, on their own line: never part of the CO2e
// above. The devices without a figure or a share follow, with why.
void EmbodiedLines(std::string& out, const RunResult& run) {
  const std::optional<EmbodiedRecord> e = EmbodiedOfRun(run);
  if (!e) return;
  std::string not_counted;
  for (const std::string& n : e->not_counted) not_counted += (not_counted.empty() ? "" : "; ") + n;
  if (e->items.empty()) {
    Line(out, "embodied", "none counted: " + not_counted);
    return;
  }
  double lo = e->items.front().lifetime_years, hi = lo;
  for (const EmbodiedItemRecord& i : e->items) {
    lo = std::min(lo, i.lifetime_years);
    hi = std::max(hi, i.lifetime_years);
  }
  const std::string years = lo == hi ? Sig(lo) : fmt::format("{}-{}", Sig(lo), Sig(hi));
  Line(out, "embodied", fmt::format("{} (manufacturing, amortised over {} years; not included above)",
                                    MassText(Co2e::Kilograms(e->kg)), years));
  if (!not_counted.empty()) Line(out, "", "not counted: " + not_counted);
}

void NoteLines(std::string& out, const RunResult& run) {
  const Ledger* ledger = run.snapshot.ledger.get();
  for (size_t c = 0; ledger && run.scope == Scope::kProcess && c < ledger->channels().size(); ++c) {
    const ChannelInfo& i = ledger->channels()[c];
    auto it = i.model.find("process_attribution");
    if (i.kind != DeviceKind::kGpu || it == i.model.end() || !it->second.starts_with("device level")) continue;
    Line(out, "note", fmt::format("{}: process share at {}", i.device_id, it->second));
  }
  for (const ProbeReport& r : run.sources) {
    if (r.state != ProbeState::kDenied) continue;
    std::string text = fmt::format("{} denied: {}", r.name, r.reason);
    if (!r.fix.empty()) text += fmt::format("; fix: {}", r.fix);
    Line(out, "note", text);
  }
}

}  // namespace

std::string FormatSummary(const RunResult& run) {
  const Figures f = ComputeFigures(run);
  const Ledger* ledger = run.snapshot.ledger.get();
  const Scope s = run.scope;
  std::string out = CommandText(run.meta) + "\n";
  Line(out, "duration", fmt::format("{} s", Sig(f.duration.count())));
  KindLines(out, f, s, ledger);
  const std::string unknown = "unknown (a device has no process share)";
  ScopeLines(out, "energy", s, EnergyText(f.CountedEnergy(Scope::kMachine)),
             f.process_known ? EnergyText(f.CountedEnergy(Scope::kProcess)) : unknown);
  const std::string pue = run.meta.pue != 1.0 ? fmt::format(" (PUE {} applied)", run.meta.pue) : "";
  // An estimate is a range: the emissions line says so where a bound differs.
  auto mass = [&](const ScopeEmissions& e) {
    std::string t = MassText(e.co2e) + pue;
    if (e.co2e_low != e.co2e || e.co2e_high != e.co2e) {
      t += fmt::format("  (range {}-{} g)", Sig(e.co2e_low.grams()), Sig(e.co2e_high.grams()));
    }
    return t;
  };
  ScopeLines(out, "CO2e", s, mass(f.machine), f.process_known ? mass(f.process) : unknown);
  IntensityLines(out, run.intensity);
  const bool chosen_known = s == Scope::kMachine || f.process_known;
  if (chosen_known) {
    const char* label = "equivalent";
    // The two that read well for one run; the dashboard shows them all.
    for (const Equivalent& e : EverydayEquivalents(f.In(s).energy, f.In(s).co2e)) {
      if (e.key != "car_km" && e.key != "phone_charges") continue;
      Line(out, label, fmt::format("{} {}  [{}]", Sig(e.amount), e.unit, e.source));
      label = "";
    }
  }
  EmbodiedLines(out, run);
  NoteLines(out, run);
  return out;
}

std::string FormatLiveStatus(const RunResult& run) {
  const Ledger* ledger = run.snapshot.ledger.get();
  const size_t n = ledger ? ledger->num_points() : 0;
  if (n == 0) return "waiting for the first reading...";
  const Figures all = ComputeFigures(run);
  const Scope s = run.scope;
  std::string power = "-- W";
  if (n >= 2) {
    const Figures last = ComputeFigures(run, n - 2, n - 1);
    power = fmt::format("{:.1f} W", (last.CountedEnergy(s) / last.duration).watts());
  }
  const long secs = static_cast<long>(all.duration.count());
  return fmt::format("{}  |  {} J  |  {} g CO2e  |  {:02}:{:02}:{:02}", power,
                     Sig(all.CountedEnergy(s).joules()), Sig(all.In(s).co2e.grams()), secs / 3600,
                     secs / 60 % 60, secs % 60);
}

}  // namespace wattprint
