"""Settings from .codecarbon.config files and CODECARBON_* variables, with
CodeCarbon's precedence (arguments > env > ./ file > ~/ file), over
wattprint's own WATTPRINT_* layers."""

import os

import pytest

from wattprint import EmissionsTracker


def write_ini(directory, **values):
    lines = ["[codecarbon]"] + [f"{k} = {v}" for k, v in values.items()]
    with open(os.path.join(directory, ".codecarbon.config"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def project_of(**kwargs):
    t = EmissionsTracker(save_to_file=False, **kwargs)
    return t._native.project_name, t._native.origin_of("project_name")


def test_home_file_is_read(env):
    write_ini(env.home, project_name="from-home", pue="1.25", api_key="ignored")
    t = EmissionsTracker()
    assert t._native.project_name == "from-home"
    assert t._native.pue == 1.25


def test_cwd_file_beats_home_file(env):
    write_ini(env.home, project_name="from-home", pue="1.25")
    write_ini(env.work, project_name="from-cwd")
    name, origin = project_of()
    assert name == "from-cwd"
    assert origin == f"file {os.path.join(env.work, '.codecarbon.config')}"
    assert EmissionsTracker()._native.pue == 1.25  # the home file still fills in


def test_env_beats_files(env, monkeypatch):
    write_ini(env.work, project_name="from-cwd")
    monkeypatch.setenv("CODECARBON_PROJECT_NAME", "from-env")
    assert project_of() == ("from-env", "env CODECARBON_PROJECT_NAME")


def test_argument_beats_env(env, monkeypatch):
    monkeypatch.setenv("CODECARBON_PROJECT_NAME", "from-env")
    assert project_of(project_name="from-arg") == ("from-arg", "argument project_name")


def test_codecarbon_settings_beat_wattprint_settings(env, monkeypatch):
    monkeypatch.setenv("WATTPRINT_PROJECT_NAME", "from-wattprint")
    assert project_of() == ("from-wattprint", "env WATTPRINT_PROJECT_NAME")
    monkeypatch.setenv("CODECARBON_PROJECT_NAME", "from-codecarbon")
    assert project_of()[0] == "from-codecarbon"


def test_wattprint_toml_is_honoured(env):
    with open(os.path.join(env.work, "wattprint.toml"), "w") as fh:
        fh.write("interval = 2.5\n")
    assert EmissionsTracker()._measure_power_secs == 2.5


def test_default_interval_is_codecarbons(env):
    t = EmissionsTracker()
    assert t._measure_power_secs == 15.0
    assert t._native.origin_of("interval").startswith("default")


def test_env_values_reach_the_row(env, monkeypatch):
    monkeypatch.setenv("CODECARBON_OUTPUT_FILE", "env.csv")
    monkeypatch.setenv("CODECARBON_TRACKING_MODE", "process")
    monkeypatch.setenv("CODECARBON_SAVE_TO_FILE", "True")
    monkeypatch.setenv("CODECARBON_COUNTRY_ISO_CODE", "FRA")
    t = EmissionsTracker()
    t.start()
    t.stop()
    from conftest import read_rows

    row = read_rows("env.csv")[0]
    assert row["tracking_mode"] == "process"
    assert row["country_iso_code"] == "FRA"


def test_save_to_file_false_in_file(env):
    write_ini(env.work, save_to_file="false")
    t = EmissionsTracker()
    t.start()
    t.stop()
    assert not os.path.exists("emissions.csv")


@pytest.mark.parametrize("var, value, message", [
    ("CODECARBON_PUE", "abc", "CODECARBON_PUE=abc"),
    ("CODECARBON_MEASURE_POWER_SECS", "-1", "CODECARBON_MEASURE_POWER_SECS=-1"),
    ("CODECARBON_TRACKING_MODE", "gpu", "CODECARBON_TRACKING_MODE=gpu"),
    ("CODECARBON_SAVE_TO_FILE", "maybe", "CODECARBON_SAVE_TO_FILE=maybe: expected true or false"),
    ("CODECARBON_ON_CSV_WRITE", "sometimes", "CODECARBON_ON_CSV_WRITE=sometimes"),
    ("CODECARBON_COUNTRY_ISO_CODE", "XYZ", "env CODECARBON_COUNTRY_ISO_CODE"),
    ("WATTPRINT_PUE", "abc", "WATTPRINT_PUE=abc"),
    ("WATTPRINT_NO_SUCH", "1", "WATTPRINT_NO_SUCH"),
])
def test_bad_setting_is_logged_with_its_origin_and_the_tracker_goes_on(env, monkeypatch, caplog, var, value,
                                                                        message):
    # CodeCarbon logs a bad config value and ignores it; so does wattprint,
    # which then uses the default rather than CodeCarbon's None.
    monkeypatch.setenv(var, value)
    with EmissionsTracker() as t:
        env.add(3600000)
    assert message in caplog.text
    assert t.final_emissions is not None


def test_malformed_ini_is_logged_and_ignored(env, caplog):
    with open(os.path.join(env.work, ".codecarbon.config"), "w") as fh:
        fh.write("no section header\n")
    with EmissionsTracker() as t:
        env.add(3600000)
    assert "not a valid INI file" in caplog.text and "the file is ignored" in caplog.text
    assert t.final_emissions is not None
