"""Invalid arguments raise ValueError in the constructor, with a message
naming the argument."""

import os

import pytest

from conftest import WORLD_G_PER_KWH, kwh, zone_latest_g_per_kwh
from wattprint import EmissionsTracker, OfflineEmissionsTracker


# Values CodeCarbon takes and fails on later (or never checks): the tracker
# logs an error naming the parameter and uses the default, so the program
# that ran with CodeCarbon still runs.
@pytest.mark.parametrize("cls", [EmissionsTracker, OfflineEmissionsTracker])
@pytest.mark.parametrize("kwargs, message", [
    ({"measure_power_secs": 0}, "measure_power_secs=0: must be from 0.01"),
    ({"measure_power_secs": "fast"}, "measure_power_secs='fast'"),
    ({"pue": 0.9}, "pue=0.9"),
    ({"save_to_file": "maybe"}, "save_to_file='maybe': expected true or false"),
    ({"allow_multiple_runs": 7}, "allow_multiple_runs=7: expected true or false"),
    ({"force_cpu_power": -5}, "force_cpu_power=-5"),
    ({"force_ram_power": 0}, "force_ram_power=0: must be > 0"),
    ({"log_level": "loud"}, "log_level='loud' is not a log level"),
    ({"gpu_ids": "0,x"}, "gpu_ids='0,x'"),
    ({"gpu_ids": [-1]}, "GPU indexes are >= 0"),
    ({"wue": -1}, "wue=-1: must be >= 0"),
    ({"api_call_interval": 0}, "api_call_interval=0"),
])
def test_bad_value_is_logged_and_the_default_used(env, caplog, cls, kwargs, message):
    t = cls(country_iso_code="FRA", **kwargs) if cls is OfflineEmissionsTracker else cls(**kwargs)
    assert message in caplog.text
    assert any(r.levelname == "ERROR" for r in caplog.records)
    t.start()
    env.add(3600000)
    assert t.stop() is not None  # the tracker still measures
    d = t.final_emissions_data
    assert d.pue == 1.0 and d.wue == 0.0


# What CodeCarbon's EmissionsTracker constructor itself rejects still raises
# there; OfflineEmissionsTracker, whose constructor CodeCarbon wraps in a
# catch-all, logs it and uses the default.
@pytest.mark.parametrize("kwargs, message", [
    ({"tracking_mode": "gpu"}, "tracking_mode='gpu'"),
    ({"on_csv_write": "replace"}, "on_csv_write='replace'"),
    ({"output_methods": ["csv", "carrier-pigeon"]}, "'carrier-pigeon' is not an output method"),
])
def test_values_codecarbon_rejects_raise_in_emissions_tracker_only(env, caplog, kwargs, message):
    with pytest.raises(ValueError) as e:
        EmissionsTracker(**kwargs)
    assert message in str(e.value)
    t = OfflineEmissionsTracker(country_iso_code="FRA", **kwargs)
    assert message in caplog.text
    with t:
        env.add(3600000)
    assert t.final_emissions is not None


def test_unknown_keyword_is_a_type_error(env, caplog):
    with pytest.raises(TypeError, match="no_such_option"):
        EmissionsTracker(no_such_option=1)
    OfflineEmissionsTracker(country_iso_code="FRA", no_such_option=1)  # CodeCarbon swallows it
    assert "unknown parameter 'no_such_option' ignored" in caplog.text


@pytest.mark.parametrize("kwargs, logged, country", [
    ({}, "OfflineEmissionsTracker has no location", None),
    ({"country_iso_code": "XYZ"}, "unknown country 'XYZ'", None),
    ({"country_iso_code": "USA", "region": "nowhere"}, "unknown region 'nowhere'", "United States"),
    ({"cloud_provider": "aws", "cloud_region": "mars-1"}, "unknown aws region 'mars-1'", None),
])
def test_a_location_the_data_do_not_know_falls_back_with_an_error(env, caplog, kwargs, logged, country):
    t = OfflineEmissionsTracker(**kwargs)
    assert logged in caplog.text
    with t:
        env.add(3600000)
    d = t.final_emissions_data
    assert d.country_name == country
    if not country:
        assert d.emissions == pytest.approx(kwh(3600000) * WORLD_G_PER_KWH / 1000, rel=1e-12)
        assert "world average" in caplog.text


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


def test_offline_location_may_come_from_any_settings_layer(env, monkeypatch, caplog):
    monkeypatch.setenv("CODECARBON_COUNTRY_ISO_CODE", "FRA")
    OfflineEmissionsTracker()
    monkeypatch.delenv("CODECARBON_COUNTRY_ISO_CODE")
    monkeypatch.setenv("WATTPRINT_COUNTRY", "DEU")
    OfflineEmissionsTracker()
    OfflineEmissionsTracker(force_carbon_intensity_g_co2e_kwh=50)
    assert "has no location" not in caplog.text


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


def test_cloud_region_settings_are_checked_like_the_cli(env, caplog):
    OfflineEmissionsTracker(cloud_provider="gcp", cloud_region="mars-north1")
    assert "unknown gcp region 'mars-north1'" in caplog.text
    caplog.clear()
    OfflineEmissionsTracker(cloud_provider="gcp")  # a provider alone names no grid
    assert "world average" in caplog.text


def test_every_parameter_may_be_positional_in_codecarbons_order(env):
    # project_name, measure_power_secs, api_call_interval, api_endpoint,
    # api_key, output_dir, output_file
    t = EmissionsTracker("positional", 2, 8, "http://127.0.0.1:1", "key", env.work, "out.csv")
    assert t._native.project_name == "positional" and t._measure_power_secs == 2
    assert t._native.output_file == "out.csv"
    with pytest.raises(TypeError):
        EmissionsTracker(*range(36))
    t = OfflineEmissionsTracker("off", 3, country_iso_code="FRA")
    assert t._native.project_name == "off"


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
