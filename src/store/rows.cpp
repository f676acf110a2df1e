#include "store/rows.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>

namespace wattprint::store {

namespace {

std::optional<double> OptReal(const Row& r, size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return r.Real(i);
}

Value Opt(const std::optional<double>& v) { return v ? Value(*v) : Value(std::monostate{}); }

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The run's columns after its id, experiment, project and organisation, in
// the order of kRunWriteColumns.
std::vector<Value> RunValues(const Run& r) {
  const Figures& f = r.figures;
  return {r.source,       r.start_us,     r.end_us,         r.host,
          r.os,           r.python_version, r.tool_version, r.cpu_model,
          r.gpu_model,    r.tracking_mode, r.region,        r.provider,
          r.cpu_count,    r.gpu_count,    r.ram_total_gb,   Opt(r.longitude),
          Opt(r.latitude), f.cpu_kwh,     f.gpu_kwh,        f.ram_kwh,
          f.energy_kwh,   f.emissions_kg, f.duration_s,     f.water_l,
          Opt(r.intensity_g_per_kwh), r.intensity_source, r.intensity_basis, r.job.cluster,
          r.job.job_id,   r.job.step,     r.job.node,       r.job.user,
          r.job.account,  int64_t{r.complete}, r.record_json, r.intensity_year,
          r.zone,         r.country,      r.cpu_method,     r.gpu_method,
          r.ram_method,   r.job.partition, Opt(r.embodied_kg)};
}

constexpr const char* kRunWriteColumns[] = {
    "source",     "start_us",  "end_us",     "host",        "os",           "python_version",      "tool_version",
    "cpu_model",  "gpu_model", "tracking_mode", "region",   "provider",     "cpu_count",           "gpu_count",
    "ram_total_gb", "longitude", "latitude", "cpu_kwh",     "gpu_kwh",      "ram_kwh",             "energy_kwh",
    "emissions_kg", "duration_s", "water_l", "intensity_g_per_kwh", "intensity_source", "intensity_basis",
    "cluster",    "job_id",    "step",       "node",        "user_name",    "account",             "complete",
    "record_json", "intensity_year", "zone", "country", "cpu_method", "gpu_method", "ram_method",
    "job_partition", "embodied_kg"};

}  // namespace

Organization ReadOrganization(const Row& r) { return {r.Text(0), r.Text(1), r.Text(2), r.Int(3)}; }

Project ReadProject(const Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4) != 0, r.Int(5)};
}

Experiment ReadExperiment(const Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.Int(5) != 0,
          r.Text(6), r.Text(7), r.Text(8), r.Text(9), r.Text(10)};
}

Run ReadRun(const Row& r) {
  Run run;
  run.id = r.Text(0);
  run.experiment_id = r.Text(1);
  run.source = r.Text(2);
  run.start_us = r.Int(3);
  run.end_us = r.Int(4);
  std::string* text[] = {&run.host,      &run.os,          &run.python_version, &run.tool_version, &run.cpu_model,
                         &run.gpu_model, &run.tracking_mode, &run.region,       &run.provider};
  for (size_t i = 0; i < std::size(text); ++i) *text[i] = r.Text(5 + i);
  run.cpu_count = r.Int(14);
  run.gpu_count = r.Int(15);
  run.ram_total_gb = r.Real(16);
  run.longitude = OptReal(r, 17);
  run.latitude = OptReal(r, 18);
  run.figures = {r.Real(19), r.Real(20), r.Real(21), r.Real(22), r.Real(23), r.Real(24), r.Real(25)};
  run.intensity_g_per_kwh = OptReal(r, 26);
  run.intensity_source = r.Text(27);
  run.intensity_basis = r.Text(28);
  run.job = {r.Text(29), r.Text(30), r.Text(31), r.Text(32), r.Text(33), r.Text(34), r.Text(43)};
  run.complete = r.Int(35) != 0;
  run.interval_count = r.Int(36);
  run.intensity_year = r.Int(37);
  std::string* more[] = {&run.zone, &run.country, &run.cpu_method, &run.gpu_method, &run.ram_method};
  for (size_t i = 0; i < std::size(more); ++i) *more[i] = r.Text(38 + i);
  run.embodied_kg = OptReal(r, 44);
  run.record_json = r.Text(45);
  return run;
}

Interval ReadInterval(const Row& r) {
  Interval iv;
  iv.seq = r.Int(0);
  iv.start_us = r.Int(1);
  iv.end_us = r.Int(2);
  iv.figures = {r.Real(3), r.Real(4), r.Real(5), r.Real(6), r.Real(7), r.Real(8), r.Real(9)};
  iv.cpu_power_w = r.Real(10);
  iv.gpu_power_w = r.Real(11);
  iv.ram_power_w = r.Real(12);
  iv.cpu_utilization = OptReal(r, 13);
  iv.gpu_utilization = OptReal(r, 14);
  iv.ram_utilization = OptReal(r, 15);
  return iv;
}

SeriesPoint ReadSeriesPoint(const Row& r) {
  return {r.Int(0), {r.Real(1), r.Real(2), r.Real(3), r.Real(4), r.Real(5), r.Real(6), r.Real(7)}, r.Int(8)};
}

Totals ReadTotals(const Row& r, size_t c) {
  Totals t;
  t.runs = r.Int(c);
  t.intervals = r.Int(c + 1);
  t.figures = {r.Real(c + 2), r.Real(c + 3), r.Real(c + 4), r.Real(c + 5),
               r.Real(c + 6), r.Real(c + 7), r.Real(c + 8)};
  t.first_us = r.Int(c + 9);
  t.last_us = r.Int(c + 10);
  t.gpu_hours = r.Real(c + 11);
  t.embodied_kg = r.Real(c + 12);
  t.embodied_runs = r.Int(c + 13);
  return t;
}

Budget ReadBudget(const Row& r) { return Budget{r.Text(0), r.Int(1), r.Real(2), r.Int(3)}; }

Token ReadToken(const Row& r) {
  Token t;
  t.id = r.Text(0);
  const std::string kind = r.Text(1);
  t.kind = kind == "admin" ? TokenKind::kAdmin : kind == "organization" ? TokenKind::kOrganization
                                                                        : TokenKind::kProject;
  t.scope_id = r.Text(2);
  t.can_read = r.Int(3) != 0;
  t.can_write = r.Int(4) != 0;
  t.label = r.Text(5);
  t.created_us = r.Int(6);
  t.revoked_us = r.Int(7);
  return t;
}

std::vector<Value> IntervalValues(const std::string& run_id, const std::string& project_id, const Interval& iv) {
  const Figures& f = iv.figures;
  return {run_id,      iv.seq,         project_id,     iv.start_us,        iv.end_us,          f.cpu_kwh,
          f.gpu_kwh,   f.ram_kwh,      f.energy_kwh,   f.emissions_kg,     f.duration_s,       f.water_l,
          iv.cpu_power_w, iv.gpu_power_w, iv.ram_power_w, Opt(iv.cpu_utilization), Opt(iv.gpu_utilization),
          Opt(iv.ram_utilization)};
}

Result<bool> InsertRun(Connection& c, const Run& run, bool if_absent) {
  auto parent = c.Query("SELECT e.project_id, p.organization_id FROM experiments e "
                        "JOIN projects p ON p.id = e.project_id WHERE e.id = ?",
                        {run.experiment_id});
  if (!parent.ok()) return parent.status();
  if (parent->empty()) return Status::NotFound("no experiment " + run.experiment_id);
  std::string sql = "INSERT INTO runs (id, experiment_id, project_id, organization_id, created_us";
  std::string marks = "?, ?, ?, ?, ?";
  for (const char* col : kRunWriteColumns) {
    sql += ", ";
    sql += col;
    marks += ", ?";
  }
  sql += ") VALUES (" + marks + ")";
  if (if_absent) sql += " ON CONFLICT (id) DO NOTHING RETURNING id";
  std::vector<Value> values = {run.id, run.experiment_id, (*parent)[0].Text(0), (*parent)[0].Text(1), NowUs()};
  for (Value& v : RunValues(run)) values.push_back(std::move(v));
  auto r = c.Query(sql, values);
  if (r.status().code() == Status::Code::kAlreadyExists) return Status::AlreadyExists("run " + run.id + " already exists");
  if (!r.ok()) return r.status();
  return !if_absent || !r->empty();
}

Status CompleteRun(Connection& c, const Run& run) {
  std::string sql = "UPDATE runs SET ";
  for (size_t i = 0; i < std::size(kRunWriteColumns); ++i) {
    if (i > 0) sql += ", ";
    sql += kRunWriteColumns[i];
    sql += " = ?";
  }
  sql += " WHERE id = ?";
  std::vector<Value> values = RunValues(run);
  values.emplace_back(run.id);
  return c.Query(sql, values).status();
}

Status AddToRun(Connection& c, const std::string& run_id, const Figures& f, int64_t added,
                const std::vector<Interval>& intervals) {
  if (added == 0) return Status::Ok();
  int64_t end = 0;
  for (const Interval& iv : intervals) end = std::max(end, iv.end_us);
  return c.Query("UPDATE runs SET cpu_kwh = cpu_kwh + ?, gpu_kwh = gpu_kwh + ?, ram_kwh = ram_kwh + ?, "
                 "energy_kwh = energy_kwh + ?, emissions_kg = emissions_kg + ?, duration_s = duration_s + ?, "
                 "water_l = water_l + ?, interval_count = interval_count + ?, "
                 "end_us = CASE WHEN end_us < ? THEN ? ELSE end_us END WHERE id = ?",
                 {f.cpu_kwh, f.gpu_kwh, f.ram_kwh, f.energy_kwh, f.emissions_kg, f.duration_s, f.water_l, added, end,
                  end, run_id})
      .status();
}

void Add(Figures& into, const Figures& f) {
  into.cpu_kwh += f.cpu_kwh;
  into.gpu_kwh += f.gpu_kwh;
  into.ram_kwh += f.ram_kwh;
  into.energy_kwh += f.energy_kwh;
  into.emissions_kg += f.emissions_kg;
  into.duration_s += f.duration_s;
  into.water_l += f.water_l;
}

void Join(Totals& into, const Totals& t) {
  const bool first = into.runs == 0;
  into.runs += t.runs;
  into.intervals += t.intervals;
  into.gpu_hours += t.gpu_hours;
  into.embodied_kg += t.embodied_kg;
  into.embodied_runs += t.embodied_runs;
  Add(into.figures, t.figures);
  into.first_us = first ? t.first_us : std::min(into.first_us, t.first_us);
  into.last_us = first ? t.last_us : std::max(into.last_us, t.last_us);
  into.figures.duration_s = static_cast<double>(into.last_us - into.first_us) / 1e6;
}

Result<std::string> NewTokenSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::IOError("no random bytes from OpenSSL");
  return "wpt_" + Hex(bytes, sizeof bytes);
}

std::string SecretHash(const std::string& secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &n, EVP_sha256(), nullptr);
  return Hex(digest, n);
}

std::string NewId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // Never reached on Linux (OpenSSL reads getrandom); time and address
    // keep ids distinct all the same.
    const int64_t t = NowUs();
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>((t >> (i % 8 * 8)) ^ (i * 131));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string h = Hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace wattprint::store
