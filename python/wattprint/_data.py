"""EmissionsData and TaskEmissionsData: one emissions.csv row as a dataclass,
with CodeCarbon's field names, order, types and defaults.

The row is built by the native library (the same row `wattprint run`
writes) as typed values: floats, ints and strings straight from the
figures, never parsed back from text. A machine without a GPU has a
measured 0.0 GPU energy; a GPU that exists but cannot be read has None
(absent is not zero), and the log says why.
"""

import dataclasses
import json
from collections import OrderedDict


@dataclasses.dataclass
class EmissionsData:
    """The fields of one emissions.csv row.

    Units as in the CSV (docs/OUTPUTS.md): duration in s, emissions in kg CO2e,
    emissions_rate in kg/s, *_power in W, *_energy and energy_consumed in kWh
    (PUE applied), water_consumed in L, ram_total_size and ram_used_gb in GiB.
    """

    timestamp: str
    project_name: str
    run_id: str
    experiment_id: str
    duration: float
    emissions: float
    emissions_rate: float
    cpu_power: float
    gpu_power: float
    ram_power: float
    cpu_energy: float
    gpu_energy: float
    ram_energy: float
    energy_consumed: float
    water_consumed: float
    country_name: str
    country_iso_code: str
    region: str
    cloud_provider: str
    cloud_region: str
    os: str
    python_version: str
    codecarbon_version: str
    cpu_count: float
    cpu_model: str
    gpu_count: float
    gpu_model: str
    longitude: float
    latitude: float
    ram_total_size: float
    tracking_mode: str
    cpu_utilization_percent: float = 0.0
    gpu_utilization_percent: float = 0.0
    ram_utilization_percent: float = 0.0
    ram_used_gb: float = 0.0
    on_cloud: str = "N"
    pue: float = 1.0
    wue: float = 0.0

    @property
    def values(self):
        """The fields as an OrderedDict, in CSV column order."""
        return OrderedDict((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))

    def toJSON(self):  # noqa: N802 - CodeCarbon's name
        """The fields as JSON text, keys sorted, indented by 4."""
        return json.dumps(dict(self.values), sort_keys=True, indent=4)

    def compute_delta_emission(self, previous):
        """Turns this total into the difference from `previous` (in place):
        duration, emissions, energies and water; the rate from those two.
        Powers, utilisation and metadata are left as they are."""
        for name in ("duration", "emissions", "cpu_energy", "gpu_energy", "ram_energy",
                     "energy_consumed", "water_consumed"):
            a, b = getattr(self, name), getattr(previous, name)
            setattr(self, name, None if a is None or b is None else a - b)
        if self.emissions is None or self.duration is None:
            self.emissions_rate = None
        else:
            self.emissions_rate = self.emissions / self.duration if self.duration > 0 else 0.0


def _task_fields():
    """TaskEmissionsData's fields: EmissionsData's, task_name first, without
    experiment_id, pue and wue (CodeCarbon's task CSV columns)."""
    out = [("task_name", str)]
    for f in dataclasses.fields(EmissionsData):
        if f.name in ("experiment_id", "pue", "wue"):
            continue
        if f.default is dataclasses.MISSING:
            out.append((f.name, f.type))
        else:
            out.append((f.name, f.type, dataclasses.field(default=f.default)))
    return out


# One row of the task CSV (emissions_<experiment>_<run_id>.csv): a task's
# slice of the run.
TaskEmissionsData = dataclasses.make_dataclass(
    "TaskEmissionsData", _task_fields(),
    namespace={"values": EmissionsData.values, "__doc__": "One row of the task CSV: a task's slice of the run."})
TaskEmissionsData.__module__ = __name__


def from_native(columns, row, wue=0.0):
    """An EmissionsData from the native (values, csv_fields) pair.

    `region` is None when no region is known, as CodeCarbon's. `wue` (L/kWh)
    gives water_consumed. The CSV text the library formatted is kept on the
    object (not a dataclass field), with the fields set here re-formatted."""
    values, fields = row
    if len(columns) != len(values) or len(columns) != len(fields):
        raise ValueError("a row needs one field per column")
    kw = dict(zip(columns, values))
    for name in ("region", "country_name", "country_iso_code"):  # unknown: None, as CodeCarbon's
        if kw.get(name) == "":
            kw[name] = None
    text = dict(zip(columns, fields))
    if wue:
        kw["wue"] = float(wue)
        if kw.get("energy_consumed") is not None:
            kw["water_consumed"] = kw["energy_consumed"] * float(wue)
        text["wue"] = csv_number(kw["wue"])
        text["water_consumed"] = csv_number(kw["water_consumed"])
    data = EmissionsData(**kw)
    object.__setattr__(data, "_csv_text", [text[c] for c in columns])
    return data


def csv_number(v):
    """A number as the library writes it: Python's repr, which keeps a whole
    float's ".0", as CodeCarbon's pandas writer does; None is empty."""
    if v is None:
        return ""
    return repr(v) if isinstance(v, float) else str(v)


def csv_fields(data, columns):
    """The CSV text of a row: the library's own text when it has it."""
    text = getattr(data, "_csv_text", None)
    if text is not None and len(text) == len(columns):
        return list(text)
    out = []
    for c in columns:
        v = getattr(data, c)
        out.append(csv_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else
                   "" if v is None else str(v))
    return out


def task_data(name, data):
    """The task CSV row of a task's EmissionsData."""
    fields = {f.name for f in dataclasses.fields(TaskEmissionsData)}
    kw = {k: v for k, v in data.values.items() if k in fields}
    return TaskEmissionsData(task_name=name, **kw)
