"""track_emissions, track_task_emissions and TaskEmissionsTracker, as
CodeCarbon 3.3 has them."""

import functools

from ._tracker import EmissionsTracker, OfflineEmissionsTracker

_DECORATOR_PARAMS = (
    "project_name", "measure_power_secs", "api_call_interval", "api_endpoint", "api_key", "output_dir",
    "output_file", "output_methods", "save_to_file", "save_to_api", "save_to_logger", "logging_logger",
    "save_to_prometheus", "save_to_logfire", "prometheus_url", "output_handlers", "gpu_ids",
    "emissions_endpoint", "experiment_id", "experiment_name", "electricitymaps_api_token",
    "co2_signal_api_token", "tracking_mode", "log_level", "on_csv_write", "logger_preamble", "offline",
    "country_iso_code", "region", "cloud_provider", "cloud_region", "country_2letter_iso_code",
    "force_cpu_power", "force_ram_power", "pue", "wue", "force_carbon_intensity_g_co2e_kwh",
    "allow_multiple_runs", "rapl_include_dram", "rapl_prefer_psys",
)


def track_emissions(fn=None, *args, **kwargs):
    """Decorator: tracks each call of the function with a fresh tracker.

    CodeCarbon 3.3's parameters, in its order (fn first). Works bare
    (@track_emissions) and with arguments
    (@track_emissions(project_name="x", offline=True, country_iso_code="FRA")).
    The row is written even when the function raises."""
    if len(args) > len(_DECORATOR_PARAMS):
        raise TypeError(f"track_emissions() takes at most {len(_DECORATOR_PARAMS) + 1} positional arguments")
    params = dict(zip(_DECORATOR_PARAMS, args))
    for k, v in kwargs.items():
        if k not in _DECORATOR_PARAMS:
            raise TypeError(f"track_emissions() got an unexpected keyword argument {k!r}")
        if k in params:
            raise TypeError(f"track_emissions() got multiple values for argument {k!r}")
        params[k] = v
    offline = bool(params.pop("offline", False))
    if not callable(fn) and fn is not None:
        params = dict(zip(_DECORATOR_PARAMS, (fn,) + args), **kwargs)
        offline = bool(params.pop("offline", False))
        fn = None
    cls = OfflineEmissionsTracker if offline else EmissionsTracker

    def decorate(func):
        @functools.wraps(func)
        def wrapped(*a, **kw):
            tracker = cls(**params)
            tracker.start()
            try:
                return func(*a, **kw)
            finally:
                tracker.stop()

        return wrapped

    if fn is not None:
        return decorate(fn)
    return decorate


class TaskEmissionsTracker:
    """Context manager for one task of a tracker:

        with TaskEmissionsTracker("grid search", tracker=tracker):
            search()

    Without a tracker, a fresh EmissionsTracker is made and stopped at the
    end (it writes its row). The task is stopped even when the block
    raises, and the exception goes on."""

    def __init__(self, task_name, tracker=None):
        self.is_default_tracker = tracker is None
        self.tracker = EmissionsTracker() if tracker is None else tracker
        self.task_name = task_name

    def __enter__(self):
        self.tracker.start_task(self.task_name)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.tracker.stop_task()
        if self.is_default_tracker:
            self.tracker.stop()
        return False


def track_task_emissions(fn=None, tracker=None, task_name=""):
    """Decorator: each call of the function is one task of `tracker`
    (CodeCarbon's order: fn, tracker, task_name; an empty name is a UUID).
    Without a tracker, one EmissionsTracker is made when the decorator is
    applied, as CodeCarbon does, and stopped after each call."""
    default = tracker is None
    if default:
        tracker = EmissionsTracker()

    def decorate(func):
        @functools.wraps(func)
        def wrapped(*a, **kw):
            tracker.start_task(task_name=task_name)
            try:
                return func(*a, **kw)
            finally:
                tracker.stop_task()
                if default:
                    tracker.stop()

        return wrapped

    if fn is not None:
        return decorate(fn)
    return decorate
