"""track_emissions with and without arguments, and exceptions in the
decorated function."""

import os

import pytest

from conftest import kwh, read_rows, zone_latest_g_per_kwh
from wattprint import track_emissions


def test_bare_decorator_tracks_each_call(env):
    @track_emissions
    def work(n):
        env.add(3600000 * n, 0)
        return n * 2

    assert work(1) == 2
    assert work(2) == 4
    assert work.__name__ == "work"
    rows = read_rows("emissions.csv")
    assert [float(r["cpu_energy"]) for r in rows] == [pytest.approx(1e-6, rel=1e-12),
                                                       pytest.approx(2e-6, rel=1e-12)]
    assert rows[0]["run_id"] != rows[1]["run_id"]


def test_decorator_with_arguments(env):
    @track_emissions(project_name="decorated", offline=True, country_iso_code="FRA",
                     output_file="d.csv")
    def work():
        env.add(900000, 90000)

    work()
    row = read_rows("d.csv")[0]
    assert row["project_name"] == "decorated"
    assert row["country_iso_code"] == "FRA"
    assert float(row["energy_consumed"]) == pytest.approx(kwh(990000), rel=1e-12)
    assert float(row["emissions"]) == pytest.approx(kwh(990000) * zone_latest_g_per_kwh("FR") / 1000, rel=1e-12)


def test_exception_in_decorated_function_still_writes_the_row(env):
    @track_emissions(project_name="fails")
    def work():
        env.add(3600000, 0)
        raise KeyError("lost")

    with pytest.raises(KeyError):
        work()
    row = read_rows("emissions.csv")[0]
    assert row["project_name"] == "fails"
    assert float(row["cpu_energy"]) == pytest.approx(1e-6, rel=1e-12)


def test_decorator_arguments_are_checked_when_the_function_runs(env, caplog):
    # As CodeCarbon's: the tracker is made at each call. A value CodeCarbon
    # rejects raises there; one it takes is logged and its default used.
    @track_emissions(tracking_mode="gpu")
    def bad():
        pass

    with pytest.raises(ValueError, match="tracking_mode"):
        bad()

    @track_emissions(pue=0.5)
    def work():
        return 7

    assert work() == 7
    assert "pue=0.5" in caplog.text
    assert read_rows("emissions.csv")[0]["pue"] == "1.0"
