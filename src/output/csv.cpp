// The CodeCarbon-compatible emissions.csv: row building and safe appends.
//
// Column meanings and units are documented in docs/OUTPUTS.md. Numbers use
// fmt's shortest round-trip form, so tiny energies (1e-07 kWh) are exact.
// A quantity that is unknown is an empty field, never 0.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "output/format.h"
#include "wattprint/report.h"

namespace wattprint {

const std::vector<std::string> kCsvColumns = {
    "timestamp",        "project_name",       "run_id",
    "experiment_id",    "duration",           "emissions",
    "emissions_rate",   "cpu_power",          "gpu_power",
    "ram_power",        "cpu_energy",         "gpu_energy",
    "ram_energy",       "energy_consumed",    "water_consumed",
    "country_name",     "country_iso_code",   "region",
    "cloud_provider",   "cloud_region",       "os",
    "python_version",   "codecarbon_version", "cpu_count",
    "cpu_model",        "gpu_count",          "gpu_model",
    "longitude",        "latitude",           "ram_total_size",
    "tracking_mode",    "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud",
    "pue",              "wue"};

namespace {

constexpr double kBytesPerGb = 1024.0 * 1024.0 * 1024.0;  // CodeCarbon divides by 1024**3
constexpr size_t kMaxHeaderBytes = 4096;

// A float column's value is always written as a float ("1.0", not "1"), as
// Python's repr (and so CodeCarbon's pandas writer) does: pandas then reads
// the same dtype from both tools' files, whatever the value.
std::string FloatText(double d) {
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // not 1e+16, nan, inf
  return s;
}

std::string Text(const CsvValue& v) {
  if (const double* d = std::get_if<double>(&v)) return FloatText(*d);
  if (const long long* n = std::get_if<long long>(&v)) return fmt::format("{}", *n);
  if (const std::string* t = std::get_if<std::string>(&v)) return *t;
  return "";
}

constexpr CsvValue kUnknown = std::monostate{};
CsvValue Num(double v) { return v; }

// RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes.
// A NUL (from a TOML "\u0000") is dropped: no CSV reader keeps it.
std::string Quote(std::string_view f) {
  std::string clean;
  if (f.find('\0') != std::string_view::npos) {
    for (char c : f) {
      if (c != '\0') clean += c;
    }
    f = clean;
  }
  if (f.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(f);
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string JoinLine(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += Quote(fields[i]);
  }
  return line + "\n";
}

// The CPU column's figure: CPU channels, or platform when it stands in.
const KindFigure& CpuFigure(const Figures& f) {
  return f.Kind(f.platform_as_cpu ? DeviceKind::kPlatform : DeviceKind::kCpu);
}

// The kind's figure in scope s is known: read, and in process scope with a
// share for every interval. Unknown is an empty field, never 0.
bool Known(const KindFigure& k, Scope s) { return k.known && (s == Scope::kMachine || k.process_ok); }

// kWh with PUE (CodeCarbon multiplies energy by PUE) or unknown.
CsvValue KindEnergy(const KindFigure& k, Scope s, double pue) {
  return Known(k, s) ? Num(k.Of(s).kwh() * pue) : kUnknown;
}

// Mean watts over the row: energy / duration, without PUE (as CodeCarbon's
// power columns); 0 s gives 0 W.
CsvValue KindPower(const KindFigure& k, Scope s, Seconds d) {
  if (!Known(k, s)) return kUnknown;
  return d.count() > 0 ? Num((k.Of(s) / d).watts()) : Num(0.0);
}

// The GPU columns: a machine with no GPU used a measured 0 J.
CsvValue GpuEnergy(const Figures& f, Scope s, double pue) {
  return f.no_gpu ? Num(0.0) : KindEnergy(f.Kind(DeviceKind::kGpu), s, pue);
}
CsvValue GpuPower(const Figures& f, Scope s) {
  return f.no_gpu ? Num(0.0) : KindPower(f.Kind(DeviceKind::kGpu), s, f.duration);
}

CsvValue Optional(const std::optional<double>& v) { return v ? Num(*v) : kUnknown; }
CsvValue Count(long long n) { return n; }

}  // namespace

CsvRecord MakeCsvRecord(const RunResult& run, size_t from_point, size_t to_point, SystemTime row_time) {
  const Figures f = ComputeFigures(run, from_point, to_point);
  const Scope s = run.scope;
  const RunMetadata& m = run.meta;
  const IntensityProvenance& p = run.intensity.provenance;
  const double secs = f.duration.count();
  const ScopeEmissions& e = f.In(s);
  const Energy it_energy = f.CountedEnergy(s);
  const bool any_known = CpuFigure(f).known || f.Kind(DeviceKind::kGpu).known ||
                         f.Kind(DeviceKind::kDram).known;
  const double gb_total = static_cast<double>(m.ram_total_bytes) / kBytesPerGb;
  const double ram_used_gb =
      s == Scope::kProcess ? static_cast<double>(f.totals.peak_tree_rss_bytes) / kBytesPerGb
                           : f.ram_utilization * gb_total;

  CsvRecord row;
  row.values = {
      FormatUtc(row_time, false),
      m.project_name,
      m.run_id,
      m.experiment_id,
      Num(secs),
      any_known ? Num(e.co2e.kg()) : kUnknown,
      any_known ? Num(secs > 0 ? e.co2e.kg() / secs : 0.0) : kUnknown,
      KindPower(CpuFigure(f), s, f.duration),
      GpuPower(f, s),
      KindPower(f.Kind(DeviceKind::kDram), s, f.duration),
      KindEnergy(CpuFigure(f), s, m.pue),
      GpuEnergy(f, s, m.pue),
      KindEnergy(f.Kind(DeviceKind::kDram), s, m.pue),
      any_known ? Num(e.energy.kwh()) : kUnknown,
      // WUE is litres per kWh of IT energy, so PUE is not applied.
      any_known ? Num(it_energy.kwh() * m.wue) : kUnknown,
      p.country_name,
      p.country_iso3,
      p.region,
      m.cloud_provider,
      m.cloud_region,
      m.os,
      m.python_version,
      m.tool_version,
      Count(m.cpu_count),
      m.cpu_model,
      Count(m.gpu_count),
      m.gpu_model,
      Optional(m.longitude),
      Optional(m.latitude),
      m.ram_total_bytes > 0 ? Num(gb_total) : kUnknown,
      ToString(s),
      f.utilization_ok ? Num(f.cpu_utilization * 100.0) : kUnknown,
      f.gpu_utilization_ok ? Num(f.gpu_utilization * 100.0) : (f.no_gpu ? Num(0.0) : kUnknown),
      f.utilization_ok ? Num(f.ram_utilization * 100.0) : kUnknown,
      (s == Scope::kProcess || (f.utilization_ok && m.ram_total_bytes > 0)) ? Num(ram_used_gb) : kUnknown,
      std::string(m.on_cloud ? "Y" : "N"),
      Num(m.pue),
      Num(m.wue),
  };
  return row;
}

CsvRow FormatCsvRow(const CsvRecord& record) {
  CsvRow row;
  for (const CsvValue& v : record.values) row.fields.push_back(Text(v));
  return row;
}

CsvRow MakeCsvRow(const RunResult& run, size_t from_point, size_t to_point, SystemTime row_time) {
  return FormatCsvRow(MakeCsvRecord(run, from_point, to_point, row_time));
}

namespace {

std::string HeaderLine() { return JoinLine(kCsvColumns); }

// Reads the first line of the file behind fd (with its '\n' when it has
// one), and whether the file is empty or ends with '\n'.
Result<std::string> ReadFirstLine(int fd, bool* ends_with_newline, bool* empty) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Status::FromErrno(errno, "fstat");
  *empty = st.st_size == 0;
  *ends_with_newline = true;
  if (*empty) return std::string();
  char last = 0;
  if (pread(fd, &last, 1, st.st_size - 1) != 1) return Status::FromErrno(errno, "pread");
  *ends_with_newline = last == '\n';
  std::string line;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0) return Status::FromErrno(errno, "pread");
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    size_t nl = chunk.find('\n');
    line.append(chunk.substr(0, nl));
    if (nl != std::string_view::npos) return line + "\n";
    off += n;
    // Longer than any header of ours: not our file (a 100 MB line must not
    // be read into memory to find that out).
    if (line.size() > kMaxHeaderBytes) return line;
  }
  return line;  // header without newline (torn)
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "write " + path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

enum class Outcome { kWritten, kHeaderMismatch, kLocked };

// How long a row waits for another writer's lock on the file before it goes
// to a sibling file instead: concurrent rows take microseconds, so a lock
// held this long belongs to a process that is stuck or holds it on purpose.
constexpr auto kLockWait = std::chrono::seconds(5);

// Takes the exclusive lock within kLockWait; false when it could not.
Result<bool> LockWithin(int fd, const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + kLockWait;
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return Status::FromErrno(errno, "flock " + path);
    if (std::chrono::steady_clock::now() >= deadline) return false;
    usleep(20 * 1000);
  }
}

// Appends under an exclusive flock. kHeaderMismatch leaves the file as is.
Result<Outcome> AppendLocked(const std::string& path, const std::string& line) {
  // Read-write so the header and the last byte can be checked under the
  // same lock; O_APPEND makes every write land at the end.
  int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  auto done = [&](Result<Outcome> r) {
    close(fd);  // releases the lock
    return r;
  };
  Result<bool> locked = LockWithin(fd, path);
  if (!locked.ok()) return done(locked.status());
  if (!*locked) return done(Outcome::kLocked);
  bool ends_nl = true, empty = true;
  auto first = ReadFirstLine(fd, &ends_nl, &empty);
  if (!first.ok()) return done(first.status());
  const std::string header = HeaderLine();
  std::string out;
  if (empty) {
    out = header;
  } else if (*first != header && *first + "\n" != header) {
    return done(Outcome::kHeaderMismatch);
  }
  // A previous writer died mid-line: end that line so our columns line up.
  if (!ends_nl) out += '\n';
  out += line;
  Status st = WriteAll(fd, out, path);
  if (!st.ok()) return done(st);
  return done(Outcome::kWritten);
}

std::string SiblingName(const std::string& file, int n) {
  const std::filesystem::path p(file);
  const std::string ext = p.has_extension() ? p.extension().string() : ".csv";
  return fmt::format("{}.wattprint-{}{}", p.stem().string(), n, ext);
}

}  // namespace

Status AppendCsvRow(const std::string& dir, const std::string& file, const CsvRow& row,
                    std::string* written_to, std::string* note) {
  std::error_code ec;
  std::filesystem::create_directories(dir.empty() ? "." : dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot create directory {}: {}", dir, ec.message()));
  const std::filesystem::path base = dir.empty() ? "." : dir;
  const std::string line = JoinLine(row.fields);
  // Sibling files: the first that is new, empty, or has our header.
  constexpr int kMaxSiblings = 1000;
  Outcome why_moved = Outcome::kHeaderMismatch;
  for (int n = 0; n <= kMaxSiblings; ++n) {
    const std::string name = n == 0 ? file : SiblingName(file, n);
    const std::string path = (base / name).string();
    auto r = AppendLocked(path, line);
    if (!r.ok()) return r.status();
    if (*r != Outcome::kWritten) {
      if (n == 0) why_moved = *r;
      continue;
    }
    if (written_to) *written_to = path;
    if (n > 0 && note) {
      *note = why_moved == Outcome::kLocked
                  ? fmt::format("{} is locked by another process for over {} s; it was left untouched and this "
                                "row went to {}",
                                (base / file).string(), kLockWait.count(), path)
                  : fmt::format("{} has different columns (another tool or version wrote it); it was left "
                                "untouched and this row went to {}",
                                (base / file).string(), path);
    }
    return Status::Ok();
  }
  return Status::IOError(fmt::format("no usable sibling of {} in {}", file, dir));
}

}  // namespace wattprint
