"""Fixtures: an isolated environment (HOME, cwd, temp dir, no CODECARBON_* or
WATTPRINT_* variables from the caller) and a fake RAPL powercap tree whose
counters the tests move while a tracker runs."""

import csv
import logging
import os
import tempfile

import pytest

PKG = "sys/class/powercap/intel-rapl:0"
DRAM = "sys/class/powercap/intel-rapl:0:0"
RANGE_UJ = 262143328850  # max_energy_range_uj of a real package zone
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "intensity")


def _data_rows(name):
    with open(os.path.join(DATA, name), newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def world_g_per_kwh():
    """Ember's world average, as data/intensity/ember_aggregates.csv holds it."""
    return next(float(r["ember_g_per_kwh"]) for r in _data_rows("ember_aggregates.csv") if r["key"] == "WORLD")


def zone_latest_g_per_kwh(zone):
    """The latest Electricity Maps yearly figure of a zone (data/intensity/zones.csv)."""
    row = next(r for r in _data_rows("zones.csv") if r["zone"] == zone)
    years = sorted(k for k in row if k.isdigit() and row[k])
    return float(row[years[-1]])


WORLD_G_PER_KWH = world_g_per_kwh()  # the default when no location is configured


def kwh(uj):
    """kWh of a µJ counter difference."""
    return uj / 3.6e12


class FakeRapl:
    """One package zone and its dram subzone, as intel_rapl_common shows them.

    Counter values keep ten digits so every update is an in-place write of
    the same length: the sources keep energy_uj open and re-read it at
    offset 0, as is right for real sysfs."""

    def __init__(self, root):
        self.root = root
        self.sysfs = os.path.join(root, "sys")
        for zone, name in ((PKG, "package-0"), (DRAM, "dram")):
            d = os.path.join(root, zone)
            os.makedirs(d)
            for f, v in (("name", name), ("energy_uj", "1000000000"),
                         ("max_energy_range_uj", str(RANGE_UJ)), ("enabled", "1")):
                with open(os.path.join(d, f), "w") as fh:
                    fh.write(v + "\n")

    def _set(self, zone, uj):
        text = f"{uj:010d}\n".encode()
        assert len(text) == 11, "counter values must keep ten digits"
        fd = os.open(os.path.join(self.root, zone, "energy_uj"), os.O_WRONLY)
        try:
            os.pwrite(fd, text, 0)
        finally:
            os.close(fd)

    def set_pkg(self, uj):
        self._set(PKG, uj)

    def set_dram(self, uj):
        self._set(DRAM, uj)

    def add(self, pkg_uj, dram_uj=0):
        """Moves both counters forward by these amounts."""
        for zone, delta in ((PKG, pkg_uj), (DRAM, dram_uj)):
            with open(os.path.join(self.root, zone, "energy_uj")) as fh:
                cur = int(fh.read())
            self._set(zone, cur + delta)


@pytest.fixture(autouse=True)
def _capture_wattprint_logs(caplog):
    """The "wattprint" and "codecarbon" loggers do not propagate (as
    CodeCarbon's); caplog sees them through a handler on "wattprint"."""
    logger = logging.getLogger("wattprint")
    logger.addHandler(caplog.handler)
    yield
    logger.removeHandler(caplog.handler)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An isolated environment with a fake RAPL tree; cwd is a fresh dir."""
    for var in list(os.environ):
        if var.startswith(("CODECARBON_", "WATTPRINT_")) or var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            monkeypatch.delenv(var)
    # EmissionsTracker finds its location as the CLI does; tests start from a
    # machine that has none (UTC, no cloud), and opt in where they test it.
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("WATTPRINT_CLOUD_METADATA", "false")
    home = tmp_path / "home"
    work = tmp_path / "work"
    tmp = tmp_path / "tmp"
    for d in (home, work, tmp):
        d.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    # log_level= sets the loggers' level, which outlives a tracker.
    logging.getLogger("wattprint").setLevel(logging.NOTSET)
    logging.getLogger("codecarbon").setLevel(logging.NOTSET)
    rapl = FakeRapl(str(tmp_path / "tree"))
    monkeypatch.setenv("WATTPRINT_SYSFS_ROOT", rapl.sysfs)
    rapl.home, rapl.work, rapl.tmp = str(home), str(work), str(tmp)
    yield rapl
    logging.getLogger("wattprint").setLevel(logging.NOTSET)


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
