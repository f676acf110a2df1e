"""EmissionsTracker, OfflineEmissionsTracker and track_emissions.

The native sampler (wattprint._native) does all the measuring on its own
thread; this layer only validates arguments, merges settings, writes rows
and turns failures into log records. It imports nothing heavy: `logging`,
`configparser`, `csv` and `functools` are imported on first use.

Behaviour worth knowing (docs/PYTHON.md has the full list):
  * Invalid arguments raise ValueError in the constructor (or when the
    decorator is applied). Failures while tracking are logged on the
    "wattprint" logger and never raised into the tracked program.
  * fork: a tracker inherited by a child process is inert there. Its
    sampler thread does not exist in the child, so its stop() returns None
    with a warning; the parent's tracker is unaffected.
  * allow_multiple_runs=False takes an exclusive lock on
    <tempdir>/.wattprint.lock, as CodeCarbon does with .codecarbon.lock;
    a second tracker that cannot take it logs an error and stays inert.
"""

import _thread
import _weakref
import os
import sys

from . import _config
from . import _native
from ._data import EmissionsData
from ._outputs import Lock as _Lock, lock_path as _lock_path, upsert_row as _upsert_row

_COLUMNS = tuple(_native.CSV_COLUMNS)
_UNSET = object()
_DEFAULT_INTERVAL_S = 15.0  # CodeCarbon's measure_power_secs (see docs/PYTHON.md)
_LOG_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
# CodeCarbon parameters for features wattprint does not have: accepted, so
# existing calls keep working, and reported once as ignored.
_IGNORED = frozenset((
    "api_call_interval", "api_endpoint", "api_key", "save_to_api", "save_to_logger",
    "logging_logger", "save_to_prometheus", "save_to_logfire", "prometheus_url",
    "output_handlers", "emissions_endpoint", "co2_signal_api_token", "logger_preamble",
    "default_cpu_power", "force_mode_cpu_load", "electricitymaps_api_token", "country_2letter_iso_code",
))

# Live trackers, for the fork handler: id -> weak reference. Only touched
# with the GIL held.
_LIVE = {}


def _utf8(text):
    """Text the native library can take: a lone surrogate (from a file name
    decoded with surrogateescape, say) becomes U+FFFD and a NUL, which no CSV
    field or C string can hold, is dropped, instead of an internal TypeError
    or a raw NUL in emissions.csv."""
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
        clean = text
    except UnicodeEncodeError:
        clean = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    clean = clean.replace("\x00", "")
    if clean != text:
        _logger().warning("%r: characters that are not valid text were replaced", text)
    return clean


def _logger():
    import logging

    return logging.getLogger("wattprint")


def _after_fork_in_child():
    for ref in list(_LIVE.values()):
        tracker = ref()
        if tracker is not None:
            tracker._abandon_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _check_number(name, value, minimum, inclusive=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}={value!r}: expected a number")
    if value < minimum or (not inclusive and value == minimum):
        op = ">=" if inclusive else ">"
        raise ValueError(f"{name}={value!r}: must be {op} {minimum}")


def _check_text(name, value):
    if not isinstance(value, str):
        raise ValueError(f"{name}={value!r}: expected a string")


def _parse_gpu_ids(setting):
    """[0, 2] or "0,2" -> [0, 2]; anything else is a ValueError."""
    v = setting.value
    items = v.split(",") if isinstance(v, str) else v
    try:
        ids = [int(str(i).strip()) for i in items]
    except (TypeError, ValueError):
        raise ValueError(f"{setting.where}: expected a list of GPU indexes like [0, 1] or \"0,1\"") from None
    if any(i < 0 for i in ids):
        raise ValueError(f"{setting.where}: GPU indexes are >= 0")
    return ids


def _validate_arguments(args):
    """Type and range checks of explicit arguments; raises ValueError."""
    for name in ("project_name", "experiment_id", "experiment_name", "output_dir", "output_file",
                 "country_iso_code", "region", "cloud_provider", "cloud_region"):
        if name in args and args[name] is not None:
            _check_text(name, args[name])
    if "measure_power_secs" in args:
        _check_number("measure_power_secs", args["measure_power_secs"], 0.01)
    if "pue" in args:
        _check_number("pue", args["pue"], 1.0)
    for name in ("force_cpu_power", "force_ram_power"):
        if name in args and args[name] is not None:
            _check_number(name, args[name], 0, inclusive=False)
    for name in ("save_to_file", "allow_multiple_runs"):
        if name in args and not isinstance(args[name], bool):
            raise ValueError(f"{name}={args[name]!r}: expected True or False")
    if args.get("on_csv_write", "append") not in ("append", "update"):
        raise ValueError(f"on_csv_write={args['on_csv_write']!r}: expected \"append\" or \"update\"")
    if args.get("tracking_mode", "machine") not in ("machine", "process"):
        raise ValueError(f"tracking_mode={args['tracking_mode']!r}: expected \"machine\" or \"process\"")
    if "log_level" in args:
        _log_level_number(_config.Setting(args["log_level"], f"log_level={args['log_level']!r}", ""))
    if args.get("gpu_ids") is not None:
        _parse_gpu_ids(_config.Setting(args["gpu_ids"], f"gpu_ids={args['gpu_ids']!r}", ""))


def _log_level_number(setting):
    v = setting.value
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    level = _LOG_LEVELS.get(str(v).strip().lower())
    if level is None:
        raise ValueError(f"{setting.where}: expected one of {', '.join(_LOG_LEVELS)}")
    return level


def _split_arguments(kwargs):
    """Explicit arguments (those not left at _UNSET), minus the ignored ones."""
    args, ignored = {}, []
    for name, value in kwargs.items():
        if value is _UNSET:
            continue
        if name in _IGNORED:
            ignored.append(name)
            continue
        if name not in _config.KNOWN:
            raise TypeError(f"unexpected keyword argument {name!r}")
        if value is None and name in ("gpu_ids", "force_cpu_power", "force_ram_power",
                                      "country_iso_code", "region", "cloud_provider", "cloud_region"):
            continue  # CodeCarbon's None means "not set"
        args[name] = value
    return args, ignored


class BaseEmissionsTracker:
    """Measures the energy and emissions of the code between start() and stop().

    Parameters keep CodeCarbon's names and meanings (docs/PYTHON.md):
    project_name, measure_power_secs, output_dir, output_file, save_to_file,
    on_csv_write, tracking_mode, gpu_ids, pue, log_level, force_cpu_power,
    force_ram_power, allow_multiple_runs, experiment_id, experiment_name,
    country_iso_code, region, cloud_provider, cloud_region.
    """

    _needs_location = False  # OfflineEmissionsTracker: a location must be configured

    def __init__(self, **kwargs):
        self._state_lock = _thread.allocate_lock()
        self._native = None
        self._lock = None
        self._inert = None  # why start/stop do nothing, or None
        self._started = False
        self._auto_started = False
        self._tasks = {}
        self.final_emissions = None
        self.final_emissions_data = None
        args, ignored = _split_arguments(kwargs)
        _validate_arguments(args)
        settings = _config.layered_settings(args)
        self._configure_python_side(settings, ignored)
        if not self._allow_multiple_runs:
            try:
                self._lock = _Lock()
            except OSError:
                self._inert = "another tracker holds the lock (allow_multiple_runs=False)"
                _logger().error(
                    "another wattprint tracker is running (it holds %s); this one will not measure. "
                    "Stop the other one, or pass allow_multiple_runs=True.", _lock_path())
                return
        self._native = _native.NativeTracker(self._native_inputs(settings))
        if (self._needs_location and self._native.origin_of("country") == "default"
                and self._native.origin_of("cloud_region") == "default"):
            self._release_lock()
            raise ValueError("OfflineEmissionsTracker needs country_iso_code (ISO 3166-1 alpha-3, "
                             "e.g. \"CAN\") or cloud_provider and cloud_region")
        self._report_sources()
        _LIVE[id(self)] = _weakref.ref(self, lambda _r, key=id(self): _LIVE.pop(key, None))

    # -- configuration ----------------------------------------------------

    def _configure_python_side(self, settings, ignored):
        get = settings.get
        self._on_csv_write = "append"
        if get("on_csv_write"):
            v = str(get("on_csv_write").value).strip()
            if v not in ("append", "update"):
                raise ValueError(f"{get('on_csv_write').where}: expected append or update")
            self._on_csv_write = v
        self._allow_multiple_runs = _config.parse_bool(get("allow_multiple_runs")) if get("allow_multiple_runs") else True
        self._gpu_ids = _parse_gpu_ids(get("gpu_ids")) if get("gpu_ids") else None
        self._force_ram_power = None
        if get("force_ram_power"):
            s = get("force_ram_power")
            try:
                self._force_ram_power = float(s.value)
            except (TypeError, ValueError):
                raise ValueError(f"{s.where}: not a number") from None
            if not self._force_ram_power > 0:
                raise ValueError(f"{s.where}: must be > 0 watts")
        self._cloud_provider = str(get("cloud_provider").value) if get("cloud_provider") else ""
        self._cloud_region = str(get("cloud_region").value) if get("cloud_region") else ""
        if get("log_level"):
            _logger().setLevel(_log_level_number(get("log_level")))
        if ignored:
            _logger().warning("ignored CodeCarbon parameters wattprint does not support: %s",
                              ", ".join(sorted(ignored)))

    def _native_inputs(self, settings):
        inputs = _native.Inputs()
        inputs.environment = [_utf8(f"{k}={v}") for k, v in os.environ.items()]
        inputs.cwd = os.getcwd()
        inputs.home = os.environ.get("HOME", "")
        inputs.xdg_config_home = os.environ.get("XDG_CONFIG_HOME", "")
        overrides = []
        for name, key in _config.SHARED.items():
            s = settings.get(name)
            if s is not None:
                overrides.append((key, _utf8(_config.as_config_text(name, s)), _utf8(s.where), s.origin))
        g = settings.get("gpu_ids")
        if self._gpu_ids is not None and g is not None:
            overrides.append(("gpu_ids", ",".join(str(i) for i in self._gpu_ids), g.where, g.origin))
        inputs.overrides = overrides
        inputs.defaults = [("interval", repr(_DEFAULT_INTERVAL_S), "measure_power_secs default",
                            "default (CodeCarbon's measure_power_secs)")]
        inputs.ram_power_w = self._force_ram_power
        inputs.python_version = "%d.%d.%d" % sys.version_info[:3]
        inputs.cloud_provider = self._cloud_provider
        inputs.cloud_region = self._cloud_region
        inputs.detect_location = not self._needs_location  # OfflineEmissionsTracker never looks
        return inputs

    def _report_sources(self):
        for name, state, reason, fix in self._native.sources():
            if state == "denied":
                _logger().warning("%s: %s%s", name, reason, f" (fix: {fix})" if fix else "")
        if self._native.interval_note:
            _logger().warning("%s", self._native.interval_note)

    # -- properties ---------------------------------------------------------

    @property
    def run_id(self):
        return self._native.run_id if self._native else None

    @property
    def _measure_power_secs(self):
        return self._native.interval_s if self._native else None

    # -- tracking -----------------------------------------------------------

    def _usable(self, what):
        if self._inert is not None:
            _logger().warning("%s ignored: %s", what, self._inert)
            return False
        return True

    def start(self):
        """Starts measuring. Returns None (as CodeCarbon)."""
        with self._state_lock:
            if not self._usable("start()"):
                return
            if self._started:
                _logger().warning("start() ignored: the tracker is already running")
                return
            try:
                self._native.start()
                self._started = True
            except Exception as e:  # noqa: BLE001 - the tracked program must go on
                _logger().error("cannot start tracking: %s", e)

    def stop(self):
        """Stops measuring, writes the row; returns the emissions in kg CO2e.

        None when the tracker was never started, is inert, or the energy is
        unknown (no source could measure anything)."""
        with self._state_lock:
            if not self._usable("stop()"):
                return None
            if not self._started:
                _logger().warning("stop() ignored: the tracker was not started")
                return None
            self._started = False
            self._auto_started = False
            try:
                data = EmissionsData(_COLUMNS, self._native.stop())
            except Exception as e:  # noqa: BLE001
                _logger().error("cannot stop tracking: %s", e)
                return None
            finally:
                self._release_lock()
            self._save(data)
            self.final_emissions_data = data
            self.final_emissions = data.emissions
            if data.emissions is None:
                _logger().warning("no source could measure energy here; emissions are unknown")
            return data.emissions

    def flush(self):
        """Writes a row for everything since start() and keeps running.
        Returns the emissions so far in kg CO2e, or None."""
        with self._state_lock:
            if not self._usable("flush()"):
                return None
            if not self._started:
                _logger().warning("flush() ignored: the tracker was not started")
                return None
            try:
                data = EmissionsData(_COLUMNS, self._native.flush())
            except Exception as e:  # noqa: BLE001
                _logger().error("cannot flush: %s", e)
                return None
            self._save(data)
            return data.emissions

    def start_task(self, task_name=None):
        """Starts a named slice of the run (starting the tracker if needed).
        Tasks do not overlap: a new one closes the open one."""
        with self._state_lock:
            if not self._usable("start_task()"):
                return
            if task_name is None:
                import uuid

                task_name = str(uuid.uuid4())
            elif not isinstance(task_name, str):
                raise ValueError(f"task_name={task_name!r}: expected a string")
            if task_name in self._tasks:
                import uuid

                task_name = f"{task_name}_{uuid.uuid4()}"  # as CodeCarbon
            try:
                if not self._started:
                    self._native.start()
                    self._started = True
                    self._auto_started = True
                self._native.start_task(task_name)
                self._tasks[task_name] = None
            except Exception as e:  # noqa: BLE001
                _logger().error("cannot start task %r: %s", task_name, e)

    def stop_task(self, task_name=None):
        """Ends the open task; returns its EmissionsData (None if no task)."""
        with self._state_lock:
            if not self._usable("stop_task()"):
                return None
            try:
                name, row = self._native.stop_task()
            except Exception as e:  # noqa: BLE001
                _logger().warning("stop_task() ignored: %s", e)
                return None
            if task_name is not None and task_name != name:
                _logger().warning("stop_task(%r): the open task was %r; it was stopped", task_name, name)
            data = EmissionsData(_COLUMNS, row)
            self._tasks[name] = data
            return data

    @property
    def tasks(self):
        """Finished tasks: name -> EmissionsData (None while a task is open)."""
        return dict(self._tasks)

    def to_json(self):
        """The full JSON record of the last stop() or flush() (docs/OUTPUTS.md)."""
        return self._native.json() if self._native else None

    # -- outputs ------------------------------------------------------------

    def _save(self, data):
        if not self._native.save_to_file:
            return
        directory, filename = self._native.output_dir, self._native.output_file
        try:
            if self._on_csv_write == "update" and _upsert_row(directory, filename, data, _COLUMNS) is not None:
                return
            path, note = self._native.append_row(directory, filename, data.csv_fields())
            if note:
                _logger().warning("%s", note)
        except Exception as e:  # noqa: BLE001
            _logger().error("cannot write the CSV row to %s: %s", os.path.join(directory, filename), e)

    # -- context manager, fork, teardown ----------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        return False

    def _abandon_after_fork(self):
        # Runs in the child with one thread. The sampler thread and any lock
        # it held stayed in the parent: never touch the native tracker here.
        if self._native is not None:
            self._native.abandon()
        self._state_lock = _thread.allocate_lock()
        self._lock = None  # the flock belongs to the parent's tracker
        self._inert = "this tracker was created in the parent process (fork); create a new one here"

    def _release_lock(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __del__(self):
        if getattr(self, "_lock", None) is not None:
            self._release_lock()


class EmissionsTracker(BaseEmissionsTracker):
    """CodeCarbon's EmissionsTracker: the location comes from settings
    (country_iso_code, region, or cloud_provider and cloud_region), else the
    world average intensity is used."""

    # Only CodeCarbon's first two parameters may be positional: its third is
    # api_call_interval, which wattprint does not have.
    def __init__(self, project_name=_UNSET, measure_power_secs=_UNSET, *, output_dir=_UNSET,
                 output_file=_UNSET, save_to_file=_UNSET, on_csv_write=_UNSET,
                 tracking_mode=_UNSET, gpu_ids=_UNSET, pue=_UNSET, log_level=_UNSET,
                 force_cpu_power=_UNSET, force_ram_power=_UNSET, allow_multiple_runs=_UNSET,
                 experiment_id=_UNSET, experiment_name=_UNSET, country_iso_code=_UNSET,
                 region=_UNSET, cloud_provider=_UNSET, cloud_region=_UNSET, **codecarbon_only):
        super().__init__(
            project_name=project_name, measure_power_secs=measure_power_secs, output_dir=output_dir,
            output_file=output_file, save_to_file=save_to_file, on_csv_write=on_csv_write,
            tracking_mode=tracking_mode, gpu_ids=gpu_ids, pue=pue, log_level=log_level,
            force_cpu_power=force_cpu_power, force_ram_power=force_ram_power,
            allow_multiple_runs=allow_multiple_runs, experiment_id=experiment_id,
            experiment_name=experiment_name, country_iso_code=country_iso_code, region=region,
            cloud_provider=cloud_provider, cloud_region=cloud_region, **codecarbon_only)


class OfflineEmissionsTracker(EmissionsTracker):
    """CodeCarbon's OfflineEmissionsTracker: the location is given, never
    looked up. country_iso_code (ISO 3166-1 alpha-3, e.g. "CAN"), from an
    argument or any settings layer, is required unless cloud_provider and
    cloud_region are given."""

    _needs_location = True


def track_emissions(fn=None, *, offline=False, **tracker_kwargs):
    """Decorator: tracks each call of the function with a fresh tracker.

    Works bare (@track_emissions) and with arguments
    (@track_emissions(project_name="x", offline=True, country_iso_code="FRA")).
    The row is written even when the function raises."""
    args, _ = _split_arguments(tracker_kwargs)
    _validate_arguments(args)  # bad arguments fail where the decorator is applied
    cls = OfflineEmissionsTracker if offline else EmissionsTracker

    def decorate(func):
        import functools

        @functools.wraps(func)
        def wrapped(*a, **kw):
            tracker = cls(**tracker_kwargs)
            tracker.start()
            try:
                return func(*a, **kw)
            finally:
                tracker.stop()

        return wrapped

    if fn is not None:
        return decorate(fn)
    return decorate
