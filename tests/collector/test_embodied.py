"""Manufacturing (embodied) emissions in the collector: a record's
embodied.kg is stored with its run, null when the record has none (older
agents, CodeCarbon clients), and the totals sum it apart from the
operational emissions_kg, with the number of runs that knew theirs."""

import json
import os
import subprocess

import pytest

from test_collector import WATTPRINT, Collector
from test_dashboard_api import record


@pytest.fixture
def collector(tmp_path):
    c = Collector(tmp_path)
    yield c
    c.stop()


def post(c, r):
    return c.request("POST", "/api/v1/runs", r, token=c.project["token"], header="bearer")


def test_embodied_is_stored_and_summed_apart(collector):
    c = collector
    exp = c.project["experiment_id"]
    with_embodied = []
    for i, kg in enumerate((0.004, 0.0025)):
        r = record(exp, start=f"2026-11-0{i + 1}T10:00:00Z", kwh=1.0, kg=0.05)
        r["embodied"] = {"kg": kg, "scope": "machine", "method": "linear", "items": [], "not_counted": []}
        assert post(c, r)[0] == 201
        with_embodied.append(r)
    older = record(exp, start="2026-11-03T10:00:00Z", kwh=2.0, kg=0.1)  # an agent from before: no "embodied"
    assert post(c, older)[0] == 201
    token, pid = c.project["token"], c.project["project_id"]
    for r, kg in zip(with_embodied + [older], (0.004, 0.0025, None)):
        status, run = c.request("GET", f"/api/v1/runs/{r['metadata']['run_id']}", token=token)
        assert status == 200
        assert run["embodied_kg"] == kg
    status, t = c.request("GET", f"/api/v1/projects/{pid}/totals", token=token)
    assert status == 200
    assert t["embodied_kg"] == pytest.approx(0.0065)
    assert t["embodied_runs"] == 2
    assert t["emissions_kg"] == pytest.approx(0.05 + 0.05 + 0.1)  # operational only
    bad = record(exp, start="2026-11-04T10:00:00Z", kwh=1.0, kg=0.05)
    bad["embodied"] = {"kg": -1}
    status, out = post(c, bad)
    assert status == 422 and "kg" in out["error"], out


def test_an_agents_record_carries_its_embodied_figure(collector, tmp_path):
    c = collector
    out = tmp_path / "run.json"
    env = dict(os.environ, WATTPRINT_SITE_CONFIG="/nonexistent", XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    subprocess.run([WATTPRINT, "run", "--no-save", "--quiet", "--country", "FRA", "--json", str(out), "--", "true"],
                   check=True, env=env, cwd=tmp_path)
    r = json.loads(out.read_text())
    assert r["embodied"]["kg"] > 0 and r["embodied"]["items"][0]["device"] == "server"
    r["metadata"]["experiment_id"] = c.project["experiment_id"]
    assert post(c, r)[0] == 201
    status, run = c.request("GET", f"/api/v1/runs/{r['metadata']['run_id']}", token=c.project["token"])
    assert status == 200 and run["embodied_kg"] == r["embodied"]["kg"]
    assert run["figures"]["emissions_kg"] == r["emissions"]["kg"]
    subprocess.run([WATTPRINT, "run", "--no-save", "--quiet", "--no-embodied", "--country", "FRA", "--json", str(out),
                    "--", "true"], check=True, env=env, cwd=tmp_path)
    assert "embodied" not in json.loads(out.read_text())
