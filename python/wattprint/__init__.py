"""wattprint: measure the energy and CO2e of Python code from hardware
counters, with CodeCarbon's tracker API.

    from wattprint import EmissionsTracker      # instead of codecarbon's

    with EmissionsTracker(project_name="train") as tracker:
        train()
    print(tracker.final_emissions, "kg CO2e")

See docs/PYTHON.md for the API, the settings and the differences from
CodeCarbon. The output classes (codecarbon.output's) are in
wattprint.output; EmissionsData, OutputMethod and the rest load on first
use, so `import wattprint` stays cheap.
"""

from ._decorators import TaskEmissionsTracker, track_emissions, track_task_emissions
from ._tracker import BaseEmissionsTracker, EmissionsTracker, OfflineEmissionsTracker

__version__ = "0.1.0"
__app_name__ = "wattprint"
__all__ = ["BaseEmissionsTracker", "EmissionsData", "EmissionsTracker", "OfflineEmissionsTracker",
           "OutputMethod", "Prediction", "TaskEmissionsData", "TaskEmissionsTracker", "track_emissions",
           "track_task_emissions", "__version__"]

_LAZY = {"EmissionsData": "_data", "TaskEmissionsData": "_data", "OutputMethod": "_outputs",
         "BaseOutput": "_outputs", "LoggerOutput": "_outputs", "GoogleCloudLoggerOutput": "_outputs",
         "HTTPOutput": "_outputs", "CodeCarbonAPIOutput": "_outputs", "PrometheusOutput": "_outputs",
         "LogfireOutput": "_outputs", "Prediction": "_predict"}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattprint' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value
