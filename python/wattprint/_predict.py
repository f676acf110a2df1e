"""wattprint.Prediction: what EmissionsTracker.predict() returns, the
library's prediction (wattprint/predict.h, docs/PREDICT.md) as Python
values. The figures are computed by the native library; this module only
holds them."""

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Estimate:
    """A predicted figure and its interval: low <= value <= high, all finite."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Prediction:
    """The whole run of total_tasks tasks, predicted after done_tasks of them.

    energy_kwh, emissions_kg and duration_s cover the whole run (the done
    tasks as measured plus the tasks to come); the remaining_* figures are
    the tasks to come alone. basis says what the prediction rests on,
    interval how the intervals were made, intensity which intensity the
    tasks to come are given; budget, when the run is inside a Slurm job of
    an account with a budget on the configured collector, the share of the
    account's remaining budget the whole run takes. str() is the text the
    tracker logs."""

    done_tasks: int
    total_tasks: int
    confidence: float
    energy_kwh: Estimate
    emissions_kg: Estimate
    duration_s: Estimate
    remaining_tasks: int
    remaining_energy_kwh: Estimate
    remaining_emissions_kg: Estimate
    remaining_duration_s: Estimate
    basis: str
    interval: str
    intensity: str
    forecast_used: bool
    notes: tuple
    budget: dict = None
    text: str = field(default="", repr=False)
    _raw: str = field(default="{}", repr=False, compare=False)

    def as_dict(self):
        """The prediction as the CLI's `wattprint predict --json` prints it."""
        return json.loads(self._raw)

    def __str__(self):
        return self.text


def _estimate(d):
    return Estimate(float(d["value"]), float(d["low"]), float(d["high"]))


def from_native(raw, text):
    """A Prediction from the native (JSON text, text) pair."""
    d = json.loads(raw)
    rest = d["remaining"]
    return Prediction(
        done_tasks=d["done_tasks"], total_tasks=d["total_tasks"], confidence=d["confidence"],
        energy_kwh=_estimate(d["energy_kwh"]), emissions_kg=_estimate(d["emissions_kg"]),
        duration_s=_estimate(d["duration_s"]), remaining_tasks=rest["tasks"],
        remaining_energy_kwh=_estimate(rest["energy_kwh"]), remaining_emissions_kg=_estimate(rest["emissions_kg"]),
        remaining_duration_s=_estimate(rest["duration_s"]), basis=d["basis"], interval=d["interval"],
        intensity=d["intensity"]["note"], forecast_used=bool(d["intensity"]["forecast"]), notes=tuple(d["notes"]),
        budget=d["budget"], text=text, _raw=raw)
