"""Invalid arguments raise ValueError in the constructor, with a message
naming the argument."""

import os

import pytest

from conftest import zone_latest_g_per_kwh
from wattprint import EmissionsTracker, OfflineEmissionsTracker


@pytest.mark.parametrize("kwargs, message", [
    ({"measure_power_secs": 0}, "measure_power_secs=0: must be >= 0.01"),
    ({"measure_power_secs": "fast"}, "measure_power_secs='fast': expected a number"),
    ({"pue": 0.9}, "pue=0.9: must be >= 1.0"),
    ({"tracking_mode": "gpu"}, "tracking_mode='gpu'"),
    ({"on_csv_write": "replace"}, "on_csv_write='replace'"),
    ({"save_to_file": "yes"}, "save_to_file='yes': expected True or False"),
    ({"allow_multiple_runs": 1}, "allow_multiple_runs=1: expected True or False"),
    ({"force_cpu_power": -5}, "force_cpu_power=-5: must be > 0"),
    ({"force_ram_power": 0}, "force_ram_power=0: must be > 0"),
    ({"log_level": "loud"}, "log_level='loud': expected one of"),
    ({"gpu_ids": "0,x"}, "gpu_ids='0,x'"),
    ({"gpu_ids": [-1]}, "GPU indexes are >= 0"),
    ({"project_name": 3}, "project_name=3: expected a string"),
    ({"country_iso_code": "XYZ"}, "XYZ"),
])
def test_bad_argument_raises_value_error(env, kwargs, message):
    with pytest.raises(ValueError) as e:
        EmissionsTracker(**kwargs)
    assert message in str(e.value)


def test_unknown_keyword_is_a_type_error(env):
    with pytest.raises(TypeError, match="no_such_option"):
        EmissionsTracker(no_such_option=1)


def test_offline_tracker_needs_a_location(env):
    with pytest.raises(ValueError, match="country_iso_code"):
        OfflineEmissionsTracker()


def test_good_values_are_accepted(env):
    t = EmissionsTracker(gpu_ids="0,1", log_level="error", force_cpu_power=65,
                         force_ram_power=3.5, measure_power_secs=0.5)
    assert t._gpu_ids == [0, 1]
    assert t._measure_power_secs == 0.5


def test_forced_powers_feed_the_models_when_no_counter(env, monkeypatch, tmp_path):
    # No RAPL at all: the estimation models run, with the forced figures.
    empty = tmp_path / "empty-sys"
    empty.mkdir()
    monkeypatch.setenv("WATTPRINT_SYSFS_ROOT", str(empty))
    t = EmissionsTracker(force_ram_power=4.0, save_to_file=False)
    t.start()
    t.stop()
    data = t.final_emissions_data
    assert data.ram_power == pytest.approx(4.0, rel=1e-9)


def test_offline_location_may_come_from_any_settings_layer(env, monkeypatch):
    monkeypatch.setenv("CODECARBON_COUNTRY_ISO_CODE", "FRA")
    OfflineEmissionsTracker()
    monkeypatch.delenv("CODECARBON_COUNTRY_ISO_CODE")
    monkeypatch.setenv("WATTPRINT_COUNTRY", "DEU")
    OfflineEmissionsTracker()


def test_offline_with_a_cloud_region_uses_that_regions_grid(env, caplog):
    # gcp europe-west1 is St. Ghislain, Belgium: the BE zone (data/cloud_regions.csv).
    t = OfflineEmissionsTracker(cloud_provider="gcp", cloud_region="europe-west1")
    assert "world average" not in caplog.text
    t.start()
    env.add(3600000, 0)  # 1e-6 kWh
    emissions = t.stop()
    assert emissions == pytest.approx(1e-6 * zone_latest_g_per_kwh("BE") / 1000, rel=1e-12)
    d = t.final_emissions_data
    assert (d.cloud_provider, d.cloud_region, d.on_cloud) == ("gcp", "europe-west1", "Y")


def test_cloud_region_settings_are_checked_like_the_cli(env):
    with pytest.raises(ValueError, match="cloud"):
        OfflineEmissionsTracker(cloud_provider="gcp", cloud_region="mars-north1")
    with pytest.raises(ValueError):
        OfflineEmissionsTracker(cloud_provider="gcp")  # a provider alone names no grid


def test_only_two_positional_parameters_like_codecarbon(env):
    assert EmissionsTracker("positional", 2)._native.project_name == "positional"
    with pytest.raises(TypeError):
        EmissionsTracker("p", 2, "out")


def test_strings_that_are_not_valid_text_are_cleaned_not_an_internal_error(env, caplog):
    # A lone surrogate (a name decoded with surrogateescape) and a NUL.
    tracker = EmissionsTracker(project_name="run\udcff\x00x")
    tracker.start()
    tracker.stop()
    assert tracker.final_emissions_data.project_name == "run\ufffdx"
    with open(os.path.join(env.work, "emissions.csv"), "rb") as fh:
        data = fh.read()
    assert b"\x00" not in data and "run\ufffdx".encode() in data
    assert "not valid text" in caplog.text
