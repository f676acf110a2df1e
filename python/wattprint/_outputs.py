"""Output methods, with CodeCarbon's names and calls (codecarbon.output):
OutputMethod, BaseOutput and its subclasses, the CSV file's rotation and
the task CSV, CodeCarbon's one-tracker lock and the on_csv_write="update"
rewrite. Plain appends are the library's (AppendCsvRow, through
wattprint._native).

A handler is called as CodeCarbon calls it:
  * out(total, delta): at flush() and stop();
  * live_out(total, delta): every api_call_interval measurements while the
    tracker runs (api_call_interval=-1: never);
  * task_out(data, experiment_name): after out() when tasks exist, with a
    TaskEmissionsData per task;
  * exit(): once, at the end of stop().
`total` is everything since start(); `delta` is what changed since the
previous call of any of them. An exception in a handler is logged and the
other handlers still run.
"""

import enum
import os

from ._log import log


class OutputMethod(str, enum.Enum):
    """Where the data go (CodeCarbon's output_methods values)."""

    CSV = "csv"
    API = "api"
    LOGGER = "logger"
    PROMETHEUS = "prometheus"
    LOGFIRE = "logfire"
    BOAMPS = "boamps"


class BaseOutput:
    """Base of every output handler; each call does nothing by default."""

    def out(self, total, delta):
        pass

    def live_out(self, total, delta):
        pass

    def task_out(self, data, experiment_name):
        pass

    def exit(self):
        pass


def _asdict(data):
    import dataclasses

    return dataclasses.asdict(data)


class LoggerOutput(BaseOutput):
    """One JSON line of the totals on a logging.Logger, at `severity`."""

    def __init__(self, logger, severity=20):
        self.logger = logger
        self.logging_severity = severity

    def out(self, total, delta):
        import json

        try:
            self.logger.log(self.logging_severity, msg=json.dumps(_asdict(total)))
        except Exception as e:  # noqa: BLE001 - an output never breaks the program
            log("error", "LoggerOutput: cannot log the emissions: %s", e)

    def live_out(self, total, delta):
        self.out(total, delta)


class GoogleCloudLoggerOutput(LoggerOutput):
    """The totals as one structured entry of a google.cloud.logging Logger."""

    def out(self, total, delta):
        try:
            self.logger.log_struct(_asdict(total), severity=self.logging_severity)
        except Exception as e:  # noqa: BLE001
            log("error", "GoogleCloudLoggerOutput: cannot log the emissions: %s", e)


def _request(method, url, body=None, headers=None, timeout=10.0):
    """One HTTP request with the standard library; returns (status, text)."""
    import json
    import urllib.error
    import urllib.request

    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if body is not None and not isinstance(body, bytes):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class HTTPOutput(BaseOutput):
    """POSTs the totals as JSON (with "user") to `endpoint_url` at out()."""

    def __init__(self, endpoint_url):
        self.endpoint_url = endpoint_url

    def out(self, total, delta):
        import getpass

        try:
            payload = _asdict(total)
            payload["user"] = getpass.getuser()
            status, _ = _request("POST", self.endpoint_url, payload)
            if status not in (200, 201):
                log("warning", "HTTPOutput: %s answered HTTP %d", self.endpoint_url, status)
        except Exception as e:  # noqa: BLE001
            log("error", "HTTPOutput: cannot send to %s: %s", self.endpoint_url, e)


class CodeCarbonAPIOutput(BaseOutput):
    """save_to_api. Against wattprint's collector (it answers
    GET /api/v1/info), the deltas go as the run's intervals and stop() sends
    the run's full record: exact totals, idempotent, and spooled on disk
    when the collector cannot take it (docs/COLLECTOR.md). Against any other
    server, CodeCarbon's protocol: POST /runs once, then POST /emissions
    with the deltas.

    Unlike CodeCarbon's client it sends every delta, the last one shorter
    than a second included, so the sums on the server equal the run's
    totals; durations are whole seconds there, so each delta carries the
    change of the rounded total duration, which also sums to the total."""

    def __init__(self, endpoint_url, experiment_id, api_key, conf=None):
        self.endpoint_url = endpoint_url.rstrip("/")
        self.experiment_id = experiment_id
        self.api_key = api_key
        self.conf = dict(conf or {})
        self.run_id = None
        self._sent_seconds = 0
        self._failed = False
        self._wattprint = None  # unknown until the first send
        self._seq = 0
        self._sent_duration = 0.0

    def _is_wattprint(self):
        """True or False once the server has answered; None while it cannot
        be reached (asked again at the next send)."""
        if self._wattprint is None:
            try:
                status, text = _request("GET", self.endpoint_url + "/api/v1/info", timeout=2.0)
            except Exception:  # noqa: BLE001 - down, or not reachable yet
                return None
            import json

            try:
                self._wattprint = status == 200 and json.loads(text).get("server") == "wattprint"
            except ValueError:
                self._wattprint = False
        return self._wattprint

    def _send_interval(self, total, delta):
        import datetime
        import time

        now = time.time()
        start = now - (total.duration or 0.0)

        def iso(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()

        self._seq += 1
        interval = {
            "seq": self._seq, "start": iso(start + self._sent_duration), "end": iso(now),
            "duration_s": delta.duration or 0.0, "cpu_energy_kwh": delta.cpu_energy or 0.0,
            "gpu_energy_kwh": delta.gpu_energy or 0.0, "ram_energy_kwh": delta.ram_energy or 0.0,
            "energy_kwh": delta.energy_consumed or 0.0, "emissions_kg": delta.emissions or 0.0,
            "cpu_power_w": delta.cpu_power or 0.0, "gpu_power_w": delta.gpu_power or 0.0,
            "ram_power_w": delta.ram_power or 0.0, "cpu_utilization": delta.cpu_utilization_percent,
            "gpu_utilization": delta.gpu_utilization_percent, "ram_utilization": delta.ram_utilization_percent,
        }
        self._sent_duration = total.duration or 0.0
        body = {"metadata": {"run_id": total.run_id, "experiment_id": self.experiment_id, "start": iso(start)},
                "intervals": [interval]}
        status, text = _request("POST", f"{self.endpoint_url}/api/v1/runs/{total.run_id}/intervals", body,
                                {"Authorization": f"Bearer {self.api_key}"}, timeout=2.0)
        if status != 200:
            raise RuntimeError(f"POST /api/v1/runs/.../intervals answered HTTP {status}: {text[:200]}")

    def _final_record(self, record_json):
        """Called by stop() with the run's full JSON record (wattprint only)."""
        # A server that answered and is not wattprint's gets CodeCarbon's
        # protocol only. One never reached may be a collector that is down:
        # the record goes to the spool, for the next agent or `wattprint upload`.
        if self._is_wattprint() is False:
            return
        from . import _native

        try:
            note = _native.deliver_record(self.endpoint_url, str(self.api_key), "", 1.0, record_json)
        except Exception as e:  # noqa: BLE001
            log("error", "save_to_api: the record was neither sent nor spooled: %s", e)
            return
        if note:
            log("warning", "save_to_api: %s", note)

    def _headers(self):
        return {"x-api-token": str(self.api_key)}

    def _ensure_run(self, total):
        if self.run_id is not None:
            return True
        import datetime

        body = {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "experiment_id": self.experiment_id,
            "os": total.os, "python_version": total.python_version,
            "codecarbon_version": total.codecarbon_version, "cpu_count": total.cpu_count,
            "cpu_model": total.cpu_model, "gpu_count": total.gpu_count, "gpu_model": total.gpu_model,
            "longitude": total.longitude, "latitude": total.latitude, "region": total.region,
            "provider": total.cloud_provider or None, "ram_total_size": total.ram_total_size,
            "tracking_mode": total.tracking_mode,
        }
        status, text = _request("POST", self.endpoint_url + "/runs", body, self._headers())
        if status != 201:
            raise RuntimeError(f"POST /runs answered HTTP {status}: {text[:200]}")
        import json

        self.run_id = json.loads(text)["id"]
        return True

    def _send(self, total, delta):
        import datetime

        try:
            if self._is_wattprint():
                self._send_interval(total, delta)
                return True
            self._ensure_run(total)
            seconds = int(round(total.duration or 0.0))
            body = {
                "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "run_id": self.run_id,
                "duration": seconds - self._sent_seconds,
                "emissions_sum": delta.emissions, "emissions_rate": delta.emissions_rate,
                "cpu_power": delta.cpu_power, "gpu_power": delta.gpu_power, "ram_power": delta.ram_power,
                "cpu_energy": delta.cpu_energy, "gpu_energy": delta.gpu_energy, "ram_energy": delta.ram_energy,
                "energy_consumed": delta.energy_consumed,
                "cpu_utilization_percent": delta.cpu_utilization_percent,
                "gpu_utilization_percent": delta.gpu_utilization_percent,
                "ram_utilization_percent": delta.ram_utilization_percent,
                "wue": delta.wue,
            }
            status, text = _request("POST", self.endpoint_url + "/emissions", body, self._headers())
            if status != 201:
                raise RuntimeError(f"POST /emissions answered HTTP {status}: {text[:200]}")
            self._sent_seconds = seconds
            return True
        except Exception as e:  # noqa: BLE001
            log("error", "save_to_api: cannot send the emissions to %s: %s", self.endpoint_url, e)
            return False

    def out(self, total, delta):
        self._send(total, delta)

    def live_out(self, total, delta):
        self._send(total, delta)


_PROM_GAUGES = (
    ("duration", "Duration from last measure (s)"),
    ("emissions", "Emissions as CO2-equivalents [CO2eq], in kg"),
    ("emissions_rate", "Emissions rate as CO2-equivalents [CO2eq], in kg/s"),
    ("cpu_power", "CPU power (W)"), ("gpu_power", "GPU power (W)"), ("ram_power", "RAM power (W)"),
    ("cpu_energy", "Energy used per CPU (kWh)"), ("gpu_energy", "Energy used per GPU (kWh)"),
    ("ram_energy", "Energy used per RAM (kWh)"),
    ("energy_consumed", "Sum of cpu_energy, gpu_energy and ram_energy (kWh)"),
)
_PROM_LABELS = ("project_name", "country_name", "country_iso_code", "region", "cloud_provider",
                "cloud_region", "os", "codecarbon_version", "cpu_model", "cpu_count", "gpu_model",
                "gpu_count", "tracking_mode", "ram_total_size")


def _prom_escape(v):
    return str("" if v is None else v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class PrometheusOutput(BaseOutput):
    """save_to_prometheus: pushes CodeCarbon's gauges (the last delta) and the
    codecarbon_energy_total counter (kWh since start) to a Prometheus
    pushgateway under job `job_name`, and deletes the job at exit().
    Basic auth from PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD."""

    def __init__(self, prometheus_url, job_name="codecarbon"):
        url = prometheus_url if "://" in prometheus_url else "http://" + prometheus_url
        self.prometheus_url = url.rstrip("/")
        self.job_name = job_name
        self._energy_total = 0.0

    def _job_url(self):
        import urllib.parse

        return f"{self.prometheus_url}/metrics/job/{urllib.parse.quote(self.job_name, safe='')}"

    def _headers(self):
        user, password = os.environ.get("PROMETHEUS_USERNAME"), os.environ.get("PROMETHEUS_PASSWORD")
        if not user:
            return {}
        import base64

        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        return {"Authorization": "Basic " + token}

    def exposition(self, total, delta):
        """The text the pushgateway is sent (Prometheus text format 0.0.4)."""
        labels = ",".join(f'{k}="{_prom_escape(getattr(total, k))}"' for k in _PROM_LABELS)
        lines = []
        for name, help_text in _PROM_GAUGES:
            v = getattr(delta, name)
            if v is None:
                continue  # unknown: no sample rather than a made-up 0
            lines += [f"# HELP codecarbon_{name} {help_text}", f"# TYPE codecarbon_{name} gauge",
                      f"codecarbon_{name}{{{labels}}} {float(v)!r}"]
        lines += ["# HELP codecarbon_energy_total Accumulated energy consumption (kWh)",
                  "# TYPE codecarbon_energy_total counter",
                  f"codecarbon_energy_total{{{labels}}} {self._energy_total!r}"]
        return "\n".join(lines) + "\n"

    def _push(self, total, delta):
        try:
            if delta.energy_consumed is not None:
                self._energy_total += delta.energy_consumed
            headers = dict(self._headers(), **{"Content-Type": "text/plain; version=0.0.4"})
            status, text = _request("PUT", self._job_url(), self.exposition(total, delta).encode(), headers)
            if status not in (200, 202):
                log("error", "save_to_prometheus: %s answered HTTP %d: %s", self.prometheus_url, status, text[:200])
        except Exception as e:  # noqa: BLE001
            log("error", "save_to_prometheus: cannot push to %s: %s", self.prometheus_url, e)

    def out(self, total, delta):
        self._push(total, delta)

    def live_out(self, total, delta):
        self._push(total, delta)

    def exit(self):
        log("info", "Deleting metrics from Prometheus Pushgateway")
        try:
            _request("DELETE", self._job_url(), headers=self._headers())
        except Exception as e:  # noqa: BLE001
            log("error", "save_to_prometheus: cannot delete job %s: %s", self.job_name, e)


class LogfireOutput(BaseOutput):
    """save_to_logfire: CodeCarbon's counters and gauges on Logfire, when the
    logfire package is installed; otherwise an error is logged once and
    nothing is sent (CodeCarbon raises there)."""

    def __init__(self):
        try:
            import logfire  # noqa: F401
        except ImportError:
            log("error", "save_to_logfire: the logfire package is not installed; nothing will be sent to "
                "Logfire (pip install logfire)")
            self._logfire = None
            return
        self._logfire = logfire
        logfire.configure()
        self._metrics = {}

    def _metric(self, kind, name, unit):
        key = (kind, name)
        if key not in self._metrics:
            make = self._logfire.metric_counter if kind == "counter" else self._logfire.metric_gauge
            self._metrics[key] = make(f"codecarbon_{name}", unit=unit)
        return self._metrics[key]

    def out(self, total, delta):
        if self._logfire is None:
            return
        try:
            for name, unit in (("duration", "s"), ("emissions", "kg"), ("energy_consumed", "kWh")):
                if getattr(delta, name) is not None:
                    self._metric("counter", name, unit).add(getattr(delta, name))
            for name, unit in (("emissions_rate", "kg/s"), ("cpu_power", "W"), ("gpu_power", "W"),
                               ("ram_power", "W"), ("cpu_energy", "kWh"), ("gpu_energy", "kWh"),
                               ("ram_energy", "kWh")):
                if getattr(delta, name) is not None:
                    self._metric("gauge", name, unit).set(getattr(delta, name))
        except Exception as e:  # noqa: BLE001
            log("error", "save_to_logfire: %s", e)

    def live_out(self, total, delta):
        self.out(total, delta)


# -- the CSV file ---------------------------------------------------------


class FileOutput(BaseOutput):
    """CodeCarbon's FileOutput, for handlers built by hand: the totals as a
    row of `output_dir/output_file_name` (rotating a file of another format
    to .bak, as the tracker does), and the task CSV at task_out()."""

    def __init__(self, output_file_name="emissions.csv", output_dir=".", on_csv_write="append"):
        if on_csv_write not in ("append", "update"):
            raise ValueError(f"on_csv_write={on_csv_write!r}: expected 'append' or 'update'")
        output_dir = os.fspath(output_dir)
        if not os.path.exists(output_dir):
            raise OSError(f"Folder '{output_dir}' doesn't exist !")
        self.output_file_name = os.fspath(output_file_name)
        self.output_dir = output_dir
        self.on_csv_write = on_csv_write
        self.save_file_path = os.path.join(self.output_dir, self.output_file_name)

    def has_valid_headers(self, data):
        """Whether the file's header names the row's columns (as a set); an
        absent or empty file is valid."""
        import csv

        try:
            with open(self.save_file_path, newline="", encoding="utf-8", errors="replace") as f:
                header = next(csv.reader([f.readline(1 << 16)]), None)
        except FileNotFoundError:
            return True
        return not header or sorted(h.strip() for h in header) == sorted(data.values)

    def out(self, total, delta):
        from ._data import EmissionsData, csv_fields
        import dataclasses

        columns = tuple(f.name for f in dataclasses.fields(EmissionsData))
        fields = csv_fields(total, columns)
        if os.path.isfile(self.save_file_path) and not self.has_valid_headers(total):
            target = backup_path(self.save_file_path)
            os.rename(self.save_file_path, target)
            log("warning", "%s has other columns: it was renamed to %s and a new file is started",
                self.save_file_path, target)
        if self.on_csv_write == "update" and upsert_row(self.output_dir, self.output_file_name, fields,
                                                        total.run_id, columns) is not None:
            return
        append_row(self.save_file_path, fields, columns)

    def task_out(self, data, experiment_name):
        if data:
            write_task_csv(self.output_dir, experiment_name, data[0].run_id, data)


def append_row(path, fields, columns):
    """Appends one row (and the header to an empty file), under the same
    flock as the library's appends."""
    import csv
    import fcntl

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    with open(fd, "a", newline="", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        writer = csv.writer(f, lineterminator="\n")
        if os.fstat(f.fileno()).st_size == 0:
            writer.writerow(columns)
        writer.writerow(fields)


def lock_path():
    import tempfile

    return os.path.join(tempfile.gettempdir(), ".wattprint.lock")


class Lock:
    """CodeCarbon's one-tracker-at-a-time lock, as an flock (released by the
    kernel if the process dies, so a crash leaves no stale lock behind)."""

    def __init__(self):
        import fcntl

        self.path = lock_path()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = -1
            raise

    def release(self):
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def backup_path(path):
    """CodeCarbon's backup names: <file>.bak, then <file>_0.bak, _1.bak, ...;
    an existing backup is never overwritten."""
    candidate = path + ".bak"
    n = 0
    while os.path.lexists(candidate):
        candidate = f"{path}_{n}.bak"
        n += 1
    return candidate


def prepare_csv(directory, filename, columns):
    """Before a row is added: a file whose header names other columns than
    `columns` (as a set, as CodeCarbon compares them) is renamed to its
    backup, so that emissions.csv starts again with wattprint's header.
    Returns the backup path, or None. An empty file is left for the
    library, which writes the header into it."""
    import csv
    import fcntl

    path = os.path.join(directory or ".", filename)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    with open(fd, "r", newline="", encoding="utf-8", errors="replace") as f:
        import stat

        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None  # a FIFO or device: the library writes through it
        fcntl.flock(f, fcntl.LOCK_EX)  # the library's appends take the same lock
        header = next(csv.reader([f.readline(1 << 16)]), None)
        if header is None or sorted(h.strip() for h in header) == sorted(columns):
            return None
        target = backup_path(path)
        os.rename(path, target)
    log("warning", "%s has other columns than wattprint writes (CodeCarbon's format changed); it was renamed "
        "to %s and a new %s is started", path, target, filename)
    return target


def upsert_row(directory, filename, fields, run_id, columns):
    """on_csv_write="update": replace the row with this run_id, or append.

    Returns the path written, or None when the file has other columns (the
    caller then appends, which rotates). Locked with flock like the
    library's appends, so the two never interleave."""
    import csv
    import fcntl

    os.makedirs(directory or ".", exist_ok=True)
    path = os.path.join(directory or ".", filename)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    with open(fd, "r+", newline="", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        rows = list(csv.reader(f))
        if rows and tuple(rows[0]) != tuple(columns):
            return None
        body = rows[1:]
        key = columns.index("run_id")
        matches = [i for i, row in enumerate(body) if len(row) > key and row[key] == run_id]
        if len(matches) == 1:
            body[matches[0]] = fields
        else:
            if len(matches) > 1:
                log("warning", "%s holds %d rows of run %s: the row is appended instead of updated", path,
                    len(matches), run_id)
            body.append(fields)
        f.seek(0)
        f.truncate()
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(body)
    return path


def write_task_csv(directory, experiment_name, run_id, tasks):
    """The task CSV, emissions_<experiment_name>_<run_id>.csv: one row per
    task (TaskEmissionsData), rewritten whole, through a temporary file and
    a rename so that a reader never sees half of it."""
    import csv
    import dataclasses

    from ._data import TaskEmissionsData, csv_number

    columns = [f.name for f in dataclasses.fields(TaskEmissionsData)]
    path = os.path.join(directory or ".", f"emissions_{experiment_name}_{run_id}.csv")
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for t in tasks:
            writer.writerow([csv_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                             else "" if v is None else str(v) for v in t.values.values()])
    os.replace(tmp, path)
    return path
