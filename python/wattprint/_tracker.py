"""EmissionsTracker and OfflineEmissionsTracker, with CodeCarbon 3.3's
parameters, in its order (the settings vocabulary is in _settings.py, the
decorators in _decorators.py).

The native sampler (wattprint._native) does all the measuring on its own
thread; this layer merges settings, writes rows, calls the output handlers
and turns failures into log records. `import wattprint` imports nothing
heavy: logging, dataclasses, csv and the HTTP client load on first use.

The rule (docs/PYTHON.md, "Errors"): the tracker never breaks the program.
  * A value CodeCarbon would take and fail on later (pue < 1, a bad number
    in .codecarbon.config, an unknown country or region, an
    OfflineEmissionsTracker without a country) is logged as an error that
    names the parameter and the fix, and the default, or the world
    average, labelled as such, is used.
  * Only what CodeCarbon's own EmissionsTracker constructor rejects raises:
    an unknown keyword (TypeError), and a tracking_mode, on_csv_write or
    output_methods value it does not know (ValueError).
    OfflineEmissionsTracker, whose constructor CodeCarbon wraps in a
    catch-all, logs those too and carries on.
  * start(), stop(), flush() and the task calls log failures and return
    None where CodeCarbon's would; so does predict() (wattprint's own),
    which raises only for an argument that is never right (ValueError).
  * fork: a tracker inherited by a child process is inert there.
"""

import _thread
import _weakref
import os
import sys

from . import _config
from . import _native
from ._log import configure as _configure_logging, log as _log
from ._settings import (_DEFAULTS, _LOCATION, _NO_EFFECT, _PARAMS, _UNSET, _Bad, _choice, _number,
                        _parse_gpu_ids, _parse_output_methods, _text, _utf8)

_COLUMNS = tuple(_native.CSV_COLUMNS)
# wattprint's own keyword arguments (CodeCarbon has none of them): the
# prediction logged after the first tasks (docs/PREDICT.md). Arguments
# only: a config file does not know how many epochs a script runs.
_WATTPRINT_KWARGS = ("predict_total_tasks", "predict_after_tasks")
# How long predict() waits for the collector's budget and the live forecast.
_PREDICT_TIMEOUT_S = 2.0
# Live trackers, for the fork handler: id -> weak reference. Only touched
# with the GIL held.
_LIVE = {}
_SAID_ONCE = set()


def _after_fork_in_child():
    for ref in list(_LIVE.values()):
        tracker = ref()
        if tracker is not None:
            tracker._abandon_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Task:
    """A named slice of a run (CodeCarbon's Task): tracker._tasks[name]."""

    def __init__(self, task_name):
        import time
        import uuid

        self.task_id = task_name + str(uuid.uuid4())
        self.task_name = task_name
        self.start_time = time.perf_counter()
        self.is_active = True
        self.emissions_data = None

    def out(self):
        """The task's TaskEmissionsData (None while it runs)."""
        if self.emissions_data is None:
            return None
        from ._data import task_data

        return task_data(self.task_name, self.emissions_data)


class BaseEmissionsTracker:
    """Measures the energy and emissions of the code between start() and stop().

    Parameters, in CodeCarbon 3.3's order and with its meanings and defaults:
    docs/PYTHON.md has the table, with what wattprint does with each.
    """

    _needs_location = False  # OfflineEmissionsTracker: a location should be configured
    _strict = True           # raise where CodeCarbon's EmissionsTracker raises

    def __init__(self, project_name=_UNSET, measure_power_secs=_UNSET, api_call_interval=_UNSET,
                 api_endpoint=_UNSET, api_key=_UNSET, output_dir=_UNSET, output_file=_UNSET,
                 output_methods=_UNSET, save_to_file=_UNSET, save_to_api=_UNSET, save_to_logger=_UNSET,
                 logging_logger=_UNSET, save_to_prometheus=_UNSET, save_to_logfire=_UNSET,
                 prometheus_url=_UNSET, output_handlers=_UNSET, gpu_ids=_UNSET, emissions_endpoint=_UNSET,
                 experiment_id=_UNSET, experiment_name=_UNSET, electricitymaps_api_token=_UNSET,
                 co2_signal_api_token=_UNSET, tracking_mode=_UNSET, log_level=_UNSET,
                 on_csv_write=_UNSET, logger_preamble=_UNSET, force_cpu_power=_UNSET,
                 force_ram_power=_UNSET, pue=_UNSET, wue=_UNSET, force_carbon_intensity_g_co2e_kwh=_UNSET,
                 force_mode_cpu_load=_UNSET, allow_multiple_runs=_UNSET, rapl_include_dram=_UNSET,
                 rapl_prefer_psys=_UNSET, *, country_iso_code=_UNSET, region=_UNSET, cloud_provider=_UNSET,
                 cloud_region=_UNSET, country_2letter_iso_code=_UNSET, predict_total_tasks=_UNSET,
                 predict_after_tasks=_UNSET):
        given = {k: v for k, v in locals().items() if k in _PARAMS or k in _LOCATION}
        self._init_state()
        try:
            self._setup(given)
            self._setup_prediction(predict_total_tasks, predict_after_tasks)
        except _Bad as e:  # only EmissionsTracker's arguments get here (_strict)
            self._release_lock()
            raise ValueError(str(e)) from None

    def _init_state(self):
        self._state_lock = _thread.allocate_lock()
        self._native = None
        self._lock = None
        self._inert = None  # why start/stop do nothing, or None
        self._started = False
        self._auto_started = False
        self._tasks = {}
        self._active_task = None
        self._handlers = []
        self._previous_total = None
        self._live = None
        self._live_error = False
        self._measure_occurrence = 0
        self._said_start = False
        self._location_fallback = False
        self.final_emissions = None
        self.final_emissions_data = None
        self._predict_total = None  # predict_total_tasks: log a prediction after...
        self._predict_after = 1     # ...this many finished tasks
        self._predicted = False

    # -- configuration ----------------------------------------------------

    def _setup(self, given):
        # CodeCarbon's None means "not set", except where a value is wanted.
        args = {k: v for k, v in given.items() if v is not _UNSET and v is not None}
        deprecated = [k for k in ("save_to_file", "save_to_api", "save_to_logger", "save_to_prometheus",
                                  "save_to_logfire") if k in args]
        if deprecated:
            import warnings

            warnings.warn(f"{', '.join(deprecated)}: use output_methods instead (as CodeCarbon 3 says)",
                          DeprecationWarning, stacklevel=4)
        settings = _config.layered_settings(args)
        self._settings = settings
        level = settings.get("log_level")
        preamble = settings.get("logger_preamble")
        _configure_logging(level.value if level else "info", str(preamble.value) if preamble else "")

        def value(name, parse, strict=False):
            """The setting's parsed value, or its default with a logged error."""
            s = settings.get(name)
            if s is None:
                return _DEFAULTS.get(name)
            from_argument = self._strict and s.origin.startswith("argument")
            try:
                return parse(s)
            except _Bad as e:
                if from_argument:
                    raise
                _log("error", "%s; the default (%r) is used", e, _DEFAULTS.get(name))
            except (TypeError, ValueError) as e:
                if strict and from_argument:
                    raise _Bad(str(e)) from None
                _log("error", "%s; the default (%r) is used", e, _DEFAULTS.get(name))
            return _DEFAULTS.get(name)

        self._api_call_interval = value("api_call_interval", lambda s: int(_number(s, integer=True)))
        if self._api_call_interval == 0 or self._api_call_interval < -1:
            _log("error", "api_call_interval=%r: expected a count >= 1, or -1 for never; 8 is used",
                 self._api_call_interval)
            self._api_call_interval = 8
        self._api_endpoint = value("api_endpoint", _text)
        self._api_key = value("api_key", lambda s: str(s.value))
        self._prometheus_url = value("prometheus_url", _text)
        self._emissions_endpoint = value("emissions_endpoint", _text)
        self._logger_preamble = value("logger_preamble", _text)
        self._on_csv_write = value("on_csv_write", lambda s: _choice(s, ("append", "update")))
        self._allow_multiple_runs = value("allow_multiple_runs", _config.parse_bool)
        self._wue = value("wue", lambda s: _number(s, 0))
        self._gpu_ids = value("gpu_ids", _parse_gpu_ids)
        self._force_ram_power = value("force_ram_power", lambda s: _number(s, 0, above=True))
        flags = {k: value(k, _config.parse_bool) for k in ("save_to_file", "save_to_api", "save_to_logger",
                                                            "save_to_prometheus", "save_to_logfire")}
        for name, why in _NO_EFFECT.items():
            if name in settings and value(name, _config.parse_bool):
                _log("info", "%s has no effect in wattprint: %s", name, why)
        methods = value("output_methods", _parse_output_methods)
        self._output_methods = self._resolve_methods(methods, flags)
        self._save_to_file = any(m.value == "csv" for m in self._output_methods)
        if "co2_signal_api_token" in settings and "electricitymaps_api_token" not in settings:
            _log("warning", "co2_signal_api_token is deprecated: use electricitymaps_api_token")
            s = settings["co2_signal_api_token"]
            settings["electricitymaps_api_token"] = _config.Setting(s.value, s.where, s.origin)
        if self._needs_location and "country_2letter_iso_code" in settings and "country_iso_code" not in settings:
            s = settings["country_2letter_iso_code"]
            settings["country_iso_code"] = _config.Setting(s.value, s.where, s.origin)

        if not self._allow_multiple_runs:
            from ._outputs import Lock, lock_path

            try:
                self._lock = Lock()
            except OSError:
                self._inert = "another tracker holds the lock (allow_multiple_runs=False)"
                _log("error", "another wattprint tracker is running (it holds %s); this one will not measure. "
                     "Stop the other one, or pass allow_multiple_runs=True.", lock_path())
                return
        self._native = self._make_native(settings)
        if self._needs_location and self._native.location_is_default and not self._location_fallback:
            _log("error", "OfflineEmissionsTracker has no location: the world average intensity is used. Pass "
                 "country_iso_code (ISO 3166-1 alpha-3, e.g. \"CAN\"), or cloud_provider and cloud_region")
        self._experiment_name = value("experiment_name", lambda s: _utf8(_text(s)))
        self._make_handlers(args.get("output_handlers"), args.get("logging_logger"))
        self._report_sources()
        _LIVE[id(self)] = _weakref.ref(self, lambda _r, key=id(self): _LIVE.pop(key, None))

    def _setup_prediction(self, total, after):
        """predict_total_tasks and predict_after_tasks (default 1): a bad
        value is logged, and then no prediction is logged (a bad total) or
        it is logged after the first task (a bad count)."""
        def count(name, v):
            if v is _UNSET or v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                _log("error", "%s=%r: expected a whole number of tasks, 1 or more", name, v)
                return False
            return v

        total, after = count("predict_total_tasks", total), count("predict_after_tasks", after)
        if total is None and after:
            _log("warning", "predict_after_tasks=%r has no effect without predict_total_tasks", after)
        if not total:
            return
        if after and after > total:
            _log("error", "predict_after_tasks=%r is more than predict_total_tasks=%r; the prediction is logged "
                 "after the first task", after, total)
            after = None
        self._predict_total = total
        self._predict_after = after or 1

    @staticmethod
    def _resolve_methods(methods, flags):
        from ._outputs import OutputMethod

        if methods is not None:
            return list(methods)
        order = (("save_to_file", OutputMethod.CSV), ("save_to_api", OutputMethod.API),
                 ("save_to_logger", OutputMethod.LOGGER), ("save_to_prometheus", OutputMethod.PROMETHEUS),
                 ("save_to_logfire", OutputMethod.LOGFIRE))
        return [m for flag, m in order if flags.get(flag)]

    def _shared_overrides(self, settings):
        """(key, text, where, origin) for the native config; a value the
        library refuses is logged and left out (its default applies)."""
        out = []
        for name, key in _config.SHARED.items():
            s = settings.get(name)
            if s is None:
                continue
            if name == "save_to_file":
                s = _config.Setting(self._save_to_file, s.where, s.origin)
            try:
                if name in ("output_dir", "output_file") and isinstance(s.value, (os.PathLike, bytes)):
                    s = _config.Setting(_text(s), s.where, s.origin)
                text = _utf8(_config.as_config_text(name, s))
            except ValueError as e:
                self._bad_setting(name, s, str(e))
                continue
            if name == "tracking_mode" and text not in ("machine", "process"):
                self._bad_setting(name, s, f"{s.where}: expected 'machine' or 'process'", strict=True)
                continue
            if name == "force_carbon_intensity_g_co2e_kwh":
                try:
                    if _number(s) < 0:
                        raise ValueError
                except ValueError:
                    _log("warning", "%s: expected a number >= 0 (g CO2e/kWh); it is ignored", s.where)
                    continue
            message = _native.check_value(key, text, _utf8(s.where))
            if message:
                self._bad_setting(name, s, message)
                continue
            out.append((key, text, _utf8(s.where), s.origin))
        if "electricitymaps_api_token" in settings and any(o[0] == "electricitymaps_token" for o in out):
            out.append(("live_intensity", "electricitymaps", "electricitymaps_api_token", "argument"))
        g = settings.get("gpu_ids")
        if self._gpu_ids is not None and g is not None:
            out.append(("gpu_ids", ",".join(str(i) for i in self._gpu_ids), g.where, g.origin))
        return out

    def _bad_setting(self, name, s, message, strict=False):
        if strict and self._strict and s.origin.startswith("argument"):
            raise _Bad(message)
        _log("error", "%s; %s's default is used", message, name)

    def _make_native(self, settings):
        inputs = _native.Inputs()
        inputs.environment = [_utf8(f"{k}={v}") for k, v in os.environ.items()]
        inputs.cwd = os.getcwd()
        inputs.home = os.environ.get("HOME", "")
        inputs.xdg_config_home = os.environ.get("XDG_CONFIG_HOME", "")
        overrides = self._shared_overrides(settings)
        inputs.defaults = [("interval", repr(_DEFAULTS["measure_power_secs"]), "measure_power_secs default",
                            "default (CodeCarbon's measure_power_secs)"),
                           ("experiment_name", "base", "experiment_name default", "default (CodeCarbon's)")]
        inputs.ram_power_w = self._force_ram_power
        inputs.python_version = "%d.%d.%d" % sys.version_info[:3]
        inputs.detect_location = not self._needs_location  # OfflineEmissionsTracker never looks
        # A location the data do not know falls back, as CodeCarbon's does:
        # an unknown region to its country, an unknown cloud region or
        # country to the world average; the log names the parameter.
        fallbacks = [(), ("region",), ("cloud_provider", "cloud_region"),
                     ("region", "country", "cloud_provider", "cloud_region", "zone")]
        last = None
        for drop in fallbacks:
            kept = [o for o in overrides if o[0] not in drop]
            if drop and len(kept) == len(overrides):
                continue
            cloud = {o[0]: o[1] for o in kept}
            inputs.cloud_provider = cloud.get("cloud_provider", "") if "cloud_region" in cloud else ""
            inputs.cloud_region = cloud.get("cloud_region", "") if "cloud_provider" in cloud else ""
            inputs.overrides = kept
            try:
                native = _native.NativeTracker(inputs)
            except ValueError as e:
                last = e
                continue
            if drop:
                self._location_fallback = True
                what = ", ".join(n for n in drop if any(o[0] == n for o in overrides))
                _log("error", "%s; %s is ignored: %s", last, what,
                     "the country's intensity is used" if drop == ("region",) else
                     "the world average intensity is used (labelled as such)")
            return native
        # Not the location: a setting of wattprint's own layers (a WATTPRINT_*
        # variable, wattprint.toml). The tracker goes on without those layers.
        inputs.overrides = [o for o in overrides if o[0] not in ("region", "country", "cloud_provider",
                                                                 "cloud_region", "zone")]
        inputs.environment = [e for e in inputs.environment if not e.startswith("WATTPRINT_")]
        inputs.cwd, inputs.home, inputs.xdg_config_home = "/nonexistent", "", ""
        _log("error", "%s; WATTPRINT_* variables and wattprint.toml files are ignored by this tracker", last)
        try:
            return _native.NativeTracker(inputs)
        except ValueError as e:
            inputs.overrides = []
            _log("error", "%s; this tracker uses the defaults", e)
            return _native.NativeTracker(inputs)

    def _make_handlers(self, handlers, logging_logger):
        from . import _outputs as o

        out = [h for h in (handlers or []) if h is not None]
        methods = {m.value for m in self._output_methods}
        if "logger" in methods:
            if logging_logger is None:
                import logging

                logging_logger = o.LoggerOutput(logging.getLogger("codecarbon"))
                _log("info", "save_to_logger without logging_logger: the totals are logged on the "
                     "\"codecarbon\" logger")
            out.append(logging_logger)
        if self._emissions_endpoint:
            out.append(o.HTTPOutput(self._emissions_endpoint))
        if "api" in methods:
            conf = {}
            out.append(o.CodeCarbonAPIOutput(self._api_endpoint, self._native.experiment_id, self._api_key, conf))
        if "prometheus" in methods:
            import re

            job = re.sub(r"[^a-zA-Z0-9_-]", "_", f"{self._native.project_name}_{self._experiment_name}")
            out.append(o.PrometheusOutput(self._prometheus_url, job_name=job))
        if "logfire" in methods:
            out.append(o.LogfireOutput())
        if "boamps" in methods:
            _log("warning", "output_methods: boamps is not supported by wattprint; no BoAmps report is written")
        self._handlers = out

    def _report_sources(self):
        for name, state, reason, fix in self._native.sources():
            if state == "denied":
                _log("warning", "%s: %s%s", name, reason, f" (fix: {fix})" if fix else "")
        for name, reason in self._native.unmeasured():
            _log("warning", "%s: %s; that energy is unknown (empty in the row), not 0", name, reason)
        if self._native.interval_note:
            _log("warning", "%s", self._native.interval_note)

    # -- properties ---------------------------------------------------------

    @property
    def run_id(self):
        """The run's UUID (a uuid.UUID, as CodeCarbon's; str() of it is the CSV's run_id)."""
        if not self._native:
            return None
        import uuid

        return uuid.UUID(self._native.run_id)

    @property
    def _measure_power_secs(self):
        return self._native.interval_s if self._native else None

    @property
    def _output_handlers(self):
        return list(self._handlers)

    def get_detected_hardware(self):
        """The machine as the rows describe it (CodeCarbon's keys)."""
        hw = dict(self._native.hardware()) if self._native else {
            "ram_total_size": 0.0, "cpu_count": 0, "cpu_model": "", "gpu_count": 0, "gpu_model": ""}
        hw["cpu_physical_count"] = _physical_cpus()
        hw["gpu_ids"] = self._gpu_ids
        order = ("ram_total_size", "cpu_count", "cpu_physical_count", "cpu_model", "gpu_count", "gpu_model",
                 "gpu_ids")
        return {k: hw[k] for k in order}

    # -- tracking -----------------------------------------------------------

    def _usable(self, what):
        if self._inert is not None:
            _log("warning", "%s ignored: %s", what, self._inert)
            return False
        return True

    def start(self):
        """Starts measuring. Returns None (as CodeCarbon)."""
        with self._state_lock:
            if not self._usable("start()"):
                return
            if self._started:
                _log("warning", "start() ignored: the tracker is already running")
                return
            try:
                self._native.start()
                self._started = True
            except Exception as e:  # noqa: BLE001 - the tracked program must go on
                _log("error", "cannot start tracking: %s", e)
                return
            self._previous_total = None
            self._log_start()
            self._start_live()

    def _log_start(self):
        if self._said_start:
            return  # once per tracker: a loop of start()/stop() is not a log of them
        self._said_start = True
        found = [f"{name} ({reason})" for name, state, reason, _ in self._native.sources() if state == "found"]
        _log("info", "energy from: %s", "; ".join(found) if found else "no source (emissions will be unknown)")
        _log("info", "intensity: %s", self._native.intensity_note)
        if "differences" not in _SAID_ONCE:
            _SAID_ONCE.add("differences")
            _log("info", "wattprint's figures differ from CodeCarbon's on the same machine by design: energy "
                 "comes from hardware counters wherever they are readable, RAM from a per-DIMM model, and grid "
                 "intensities from Electricity Maps' 2025 yearly data; codecarbon_version holds wattprint's "
                 "version (docs/PYTHON.md)")

    def stop(self):
        """Stops measuring, writes the row; returns the emissions in kg CO2e.

        None when the tracker was never started, is inert, or the energy is
        unknown (no source could measure anything)."""
        self._stop_live()
        with self._state_lock:
            if not self._usable("stop()"):
                return None
            if not self._started:
                _log("warning", "stop() ignored: the tracker was not started")
                return None
            if self._active_task is not None:
                self._stop_task_locked(None)
            self._count_measurement()  # stop()'s measurement, which may call live_out first
            self._started = False
            self._auto_started = False
            try:
                data = self._row(self._native.stop())
            except Exception as e:  # noqa: BLE001
                _log("error", "cannot stop tracking: %s", e)
                return None
            finally:
                self._release_lock()
            self._save(data)
            self._emit("out", data)
            self._emit_tasks(self._experiment_name)
            for h in self._handlers:
                if hasattr(h, "_final_record"):  # save_to_api to wattprint's collector: the exact record
                    self._call(h, "_final_record", self._native.json())
                self._call(h, "exit")
            self.final_emissions_data = data
            self.final_emissions = data.emissions
            if data.emissions is None:
                _log("warning", "no source could measure energy here; emissions are unknown")
            else:
                _log("info", "totals: %.6g kWh, %.6g kg CO2e in %.1f s (energy cpu %s, gpu %s, ram %s kWh)",
                     data.energy_consumed, data.emissions, data.duration, _g(data.cpu_energy),
                     _g(data.gpu_energy), _g(data.ram_energy))
            return data.emissions

    def flush(self):
        """Writes a row for everything since start() and keeps running.
        Returns the emissions so far in kg CO2e, or None."""
        with self._state_lock:
            if not self._usable("flush()"):
                return None
            if not self._started:
                _log("error", "flush() ignored: you first need to start the tracker")
                return None
            try:
                data = self._row(self._native.flush())
            except Exception as e:  # noqa: BLE001
                _log("error", "cannot flush: %s", e)
                return None
            self._save(data)
            self._emit("out", data)
            self._emit_tasks(None)
            return data.emissions

    def start_task(self, task_name=None):
        """Starts a named slice of the run (starting the tracker if needed).
        Tasks do not overlap: while one is open, another start_task() is a
        warning and does nothing, as CodeCarbon."""
        with self._state_lock:
            if not self._usable("start_task()"):
                return
            if self._active_task is not None:
                _log("warning", "start_task(%r) ignored: task %r is already under measure; stop_task() it first",
                     task_name, self._active_task.task_name)
                return
            if not task_name:
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
                    self._previous_total = None
                    self._log_start()
                    self._start_live()
                self._native.start_task(_utf8(task_name))
                task = Task(task_name)
                self._tasks[task_name] = task
                self._active_task = task
            except Exception as e:  # noqa: BLE001
                _log("error", "cannot start task %r: %s", task_name, e)

    def stop_task(self, task_name=None):
        """Ends the open task; returns its EmissionsData (None if no task).
        With predict_total_tasks, the predict_after_tasks-th one logs the
        prediction for the whole run."""
        with self._state_lock:
            if not self._usable("stop_task()"):
                return None
            data = self._stop_task_locked(task_name)
            due = data is not None and self._prediction_due()
        if due:  # outside the lock: it may wait (briefly) for the collector
            prediction = self.predict(self._predict_total)
            if prediction is not None:
                _log("info", "%s", prediction.text.rstrip("\n"))
        return data

    def _prediction_due(self):
        if self._predict_total is None or self._predicted:
            return False
        if sum(1 for t in self._tasks.values() if t.emissions_data is not None) < self._predict_after:
            return False
        self._predicted = True
        return True

    def predict(self, total_tasks, confidence=0.9):
        """Predicts the energy, CO2e and duration of a run of total_tasks
        tasks (epochs) from the tasks finished so far, with intervals at
        `confidence`; returns a wattprint.Prediction (docs/PREDICT.md), or
        None, with a logged warning, before any task has finished or when
        total_tasks is below the tasks already done. With live intensity
        on, the forecast gives the remaining time's intensity; inside a
        Slurm job with a collector configured, the prediction says what
        share of the account's remaining budget the run takes. Neither
        waits more than about two seconds. ValueError for a total_tasks that
        is not a whole number >= 1 or a confidence outside (0, 1)."""
        if isinstance(total_tasks, bool) or not isinstance(total_tasks, int) or total_tasks < 1:
            raise ValueError(f"total_tasks={total_tasks!r}: expected a whole number of tasks, 1 or more")
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
            raise ValueError(f"confidence={confidence!r}: expected a level between 0 and 1, e.g. 0.9")
        with self._state_lock:
            if not self._usable("predict()"):
                return None
            done = sum(1 for t in self._tasks.values() if t.emissions_data is not None)
        if done == 0:
            _log("warning", "predict() ignored: no task has finished yet (stop_task() ends one)")
            return None
        if total_tasks < done:
            _log("warning", "predict(total_tasks=%d) ignored: %d tasks are already done", total_tasks, done)
            return None
        account, status, body, note = self._budget_answer()
        try:
            raw, text = self._native.predict(total_tasks, float(confidence), status, account, body, note,
                                             _PREDICT_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 - the tracked program must go on
            _log("error", "cannot predict: %s", e)
            return None
        from ._predict import from_native

        return from_native(raw, text)

    def _collector(self):
        """(url, token) of the collector that keeps budgets: wattprint's
        collector_url setting, else save_to_api's endpoint when it is not
        CodeCarbon's public API; (None, None) when there is none."""
        if self._native.collector_url:
            return self._native.collector_url, self._native.collector_token
        if any(m.value == "api" for m in self._output_methods) and self._api_endpoint and \
                self._api_endpoint != _DEFAULTS["api_endpoint"]:
            return self._api_endpoint, self._api_key
        return None, None

    def _budget_answer(self):
        """(account, HTTP status, body, note) of GET /api/v1/budgets/ACCOUNT;
        status -1 when not asked (no collector or no Slurm account), 0 when
        the request failed (note says why)."""
        account = self._native.cluster_account
        url, token = self._collector()
        if not account or not url:
            return account, -1, "", ""
        import urllib.parse

        from ._outputs import _request

        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            status, text = _request("GET", f"{url.rstrip('/')}/api/v1/budgets/{urllib.parse.quote(account, safe='')}",
                                    headers=headers, timeout=_PREDICT_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 - down, refused, timed out: a note
            return account, 0, "", str(getattr(e, "reason", None) or e)
        return account, status, text, ""

    def _stop_task_locked(self, task_name):
        try:
            name, row = self._native.stop_task()
        except Exception as e:  # noqa: BLE001
            _log("warning", "stop_task() ignored: %s", e)
            return None
        if task_name is not None and task_name != name:
            _log("warning", "stop_task(%r): the open task was %r; it was stopped", task_name, name)
        data = self._row(row)
        task = self._tasks.get(name) or Task(name)
        task.emissions_data = data
        task.is_active = False
        self._tasks[name] = task
        self._active_task = None
        return data

    @property
    def tasks(self):
        """Finished and open tasks: name -> Task (its .emissions_data once stopped)."""
        return dict(self._tasks)

    def to_json(self):
        """The full JSON record of the last stop() or flush() (docs/OUTPUTS.md)."""
        return self._native.json() if self._native else None

    # -- outputs ------------------------------------------------------------

    def _row(self, native_row):
        from ._data import from_native

        return from_native(_COLUMNS, native_row, self._wue)

    def _delta(self, total):
        import copy

        delta = copy.copy(total)
        if self._previous_total is not None:
            delta.compute_delta_emission(self._previous_total)
        self._previous_total = total
        return delta

    def _emit(self, method, total):
        if not self._handlers:
            return
        delta = self._delta(total)
        for h in self._handlers:
            self._call(h, method, total, delta)

    def _emit_tasks(self, experiment_name):
        done = [t for t in self._tasks.values() if t.emissions_data is not None]
        if not done:
            return
        rows = [t.out() for t in done]
        for h in self._handlers:
            self._call(h, "task_out", rows, experiment_name)
        if self._save_to_file and experiment_name is not None:
            from ._outputs import write_task_csv

            try:
                write_task_csv(self._native.output_dir, experiment_name, str(self.run_id), rows)
            except Exception as e:  # noqa: BLE001
                _log("error", "cannot write the task CSV: %s", e)

    @staticmethod
    def _call(handler, method, *args):
        try:
            getattr(handler, method)(*args)
        except Exception as e:  # noqa: BLE001 - a handler never breaks the program
            _log("error", "output handler %s.%s() failed: %s", type(handler).__name__, method, e)

    def _save(self, data):
        if not self._save_to_file or not self._native.save_to_file:
            return
        from ._data import csv_fields
        from ._outputs import prepare_csv, upsert_row

        directory, filename = self._native.output_dir, self._native.output_file
        try:
            prepare_csv(directory, filename, _COLUMNS)
            fields = csv_fields(data, _COLUMNS)
            if self._on_csv_write == "update" and upsert_row(directory, filename, fields, data.run_id,
                                                             _COLUMNS) is not None:
                return
            path, note = self._native.append_row(directory, filename, fields)
            if note:
                _log("warning", "%s", note)
        except Exception as e:  # noqa: BLE001
            _log("error", "cannot write the CSV row to %s: %s", os.path.join(directory, filename), e)

    # -- live outputs: a thread only when a handler wants them ---------------

    def _start_live(self):
        """CodeCarbon's cadence: start() is a measurement, then one every
        measure_power_secs, and stop() another; every api_call_interval-th
        measurement calls live_out. The thread runs only when a handler
        wants live outputs."""
        self._measure_occurrence = 0
        if not self._handlers or self._api_call_interval == -1:
            return
        self._count_measurement()  # the one at start()
        stop = _thread.allocate_lock()
        stop.acquire()
        self._live = stop
        _thread.start_new_thread(self._live_loop, (stop, max(self._native.interval_s, 0.01)))

    def _count_measurement(self):
        """One measurement; True (and live_out called) on every N-th.
        Called with the state lock held, or from start()."""
        if not self._handlers or self._api_call_interval == -1:
            return False
        self._measure_occurrence += 1
        if self._measure_occurrence < self._api_call_interval:
            return False
        self._measure_occurrence = 0
        try:
            total = self._row(self._native.flush())
        except Exception as e:  # noqa: BLE001
            if not self._live_error:
                _log("error", "live outputs: cannot read the totals: %s", e)
                self._live_error = True
            return False
        self._emit("live_out", total)
        return True

    def _live_loop(self, stop, period):
        while not stop.acquire(timeout=period):
            with self._state_lock:
                if self._live is not stop or not self._started:
                    return
                self._count_measurement()

    def _stop_live(self):
        stop, self._live = self._live, None
        if stop is not None:
            stop.release()

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
        self._live = None
        self._lock = None  # the flock belongs to the parent's tracker
        self._inert = "this tracker was created in the parent process (fork); create a new one here"

    def _release_lock(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __del__(self):
        if getattr(self, "_live", None) is not None:
            self._stop_live()
        if getattr(self, "_lock", None) is not None:
            self._release_lock()


def _g(v):
    return "unknown" if v is None else f"{v:.6g}"


def _physical_cpus():
    """Sockets ("physical id"s) in /proc/cpuinfo; 1 when it does not say."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            ids = {line.split(":", 1)[1].strip() for line in f if line.startswith("physical id")}
    except OSError:
        return 1
    return max(len(ids), 1)


class EmissionsTracker(BaseEmissionsTracker):
    """CodeCarbon's EmissionsTracker. Without a configured location
    (country_iso_code, region, or cloud_provider and cloud_region, which
    wattprint also takes here), it finds one as `wattprint run` does: the
    cloud metadata service, then the time zone, then the world average."""


class OfflineEmissionsTracker(BaseEmissionsTracker):
    """CodeCarbon's OfflineEmissionsTracker: the location is given, never
    looked up. Without country_iso_code (or cloud_provider and
    cloud_region) from an argument or any settings layer, the world average
    intensity is used, labelled as such, and an error is logged. Its
    constructor never raises but for a wrong call (TypeError): a bad value
    is logged and its default used, as CodeCarbon's catch-all does."""

    _needs_location = True
    _strict = False

    def __init__(self, *args, country_iso_code=_UNSET, region=_UNSET, cloud_provider=_UNSET,
                 cloud_region=_UNSET, country_2letter_iso_code=_UNSET, **kwargs):
        unknown = [k for k in kwargs if k not in _PARAMS and k not in _WATTPRINT_KWARGS]
        for k in unknown:
            _log("error", "OfflineEmissionsTracker: unknown parameter %r ignored", k)
            kwargs.pop(k)
        if len(args) > len(_PARAMS):
            _log("error", "OfflineEmissionsTracker: %d positional arguments given, at most %d are taken; "
                 "the rest are ignored", len(args), len(_PARAMS))
            args = args[:len(_PARAMS)]
        super().__init__(*args, country_iso_code=country_iso_code, region=region, cloud_provider=cloud_provider,
                         cloud_region=cloud_region, country_2letter_iso_code=country_2letter_iso_code, **kwargs)
