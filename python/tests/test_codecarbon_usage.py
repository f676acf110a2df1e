"""CodeCarbon's documented usage patterns (README and docs/usage, 2024-2025),
with only the import changed from `codecarbon` to `wattprint`."""

import pytest

from conftest import WORLD_G_PER_KWH, read_rows, zone_latest_g_per_kwh
from wattprint import EmissionsTracker, OfflineEmissionsTracker, track_emissions


def training_step(env):
    env.add(3600000, 360000)


def test_explicit_object(env):
    tracker = EmissionsTracker()
    tracker.start()
    try:
        training_step(env)
    finally:
        tracker.stop()
    assert len(read_rows("emissions.csv")) == 1


def test_context_manager(env):
    with EmissionsTracker() as tracker:
        training_step(env)
    assert tracker.final_emissions == pytest.approx(
        (3960000 / 3.6e12) * WORLD_G_PER_KWH / 1000, rel=1e-12)


def test_decorator(env):
    @track_emissions()
    def train_model():
        training_step(env)
        return "done"

    assert train_model() == "done"
    assert len(read_rows("emissions.csv")) == 1


def test_offline_tracker(env):
    tracker = OfflineEmissionsTracker(country_iso_code="CAN")
    tracker.start()
    training_step(env)
    emissions: float = tracker.stop()
    print(f"Emissions: {emissions} kg")
    assert emissions == pytest.approx((3960000 / 3.6e12) * zone_latest_g_per_kwh("CA") / 1000, rel=1e-12)


def test_offline_decorator(env):
    @track_emissions(offline=True, country_iso_code="CAN")
    def train():
        training_step(env)

    train()
    assert read_rows("emissions.csv")[0]["country_iso_code"] == "CAN"


def test_tasks(env):
    tracker = EmissionsTracker(project_name="bert_inference", measure_power_secs=10)
    tracker.start_task("load dataset")
    training_step(env)
    load_emissions = tracker.stop_task()
    tracker.start_task("build model")
    training_step(env)
    model_emissions = tracker.stop_task()
    tracker.stop()
    assert load_emissions.energy_consumed == pytest.approx(3960000 / 3.6e12, rel=1e-12)
    assert model_emissions.emissions == pytest.approx(load_emissions.emissions, rel=1e-12)
    # CodeCarbon's docs read the tasks through _tasks: a Task per name,
    # whose emissions_data is the slice stop_task() returned.
    for task_name, task in tracker._tasks.items():
        assert task.emissions_data.emissions_rate is not None, task_name
        assert task.task_name == task_name and not task.is_active
    assert tracker._tasks["load dataset"].emissions_data == load_emissions
    # And the task CSV, emissions_<experiment_name>_<run_id>.csv.
    rows = read_rows(f"emissions_base_{tracker.run_id}.csv")  # str(UUID)
    assert [r["task_name"] for r in rows] == ["load dataset", "build model"]
    assert float(rows[0]["energy_consumed"]) == pytest.approx(3960000 / 3.6e12, rel=1e-12)


def test_final_emissions_data(env):
    tracker = EmissionsTracker(project_name="final")
    tracker.start()
    training_step(env)
    tracker.stop()
    data = tracker.final_emissions_data
    print(data.cpu_energy, data.ram_energy, data.energy_consumed, data.duration)
    assert data.energy_consumed == pytest.approx(data.cpu_energy + data.ram_energy, rel=1e-12)
