"""wattprint: measure the energy and CO2e of Python code from hardware
counters, with CodeCarbon's tracker API.

    from wattprint import EmissionsTracker      # instead of codecarbon's

    with EmissionsTracker(project_name="train") as tracker:
        train()
    print(tracker.final_emissions, "kg CO2e")

See docs/PYTHON.md for the API, the settings and the differences from
CodeCarbon.
"""

from ._data import EmissionsData
from ._tracker import (BaseEmissionsTracker, EmissionsTracker, OfflineEmissionsTracker,
                       track_emissions)

__version__ = "0.1.0"
__all__ = ["BaseEmissionsTracker", "EmissionsData", "EmissionsTracker", "OfflineEmissionsTracker",
           "track_emissions", "__version__"]
