"""save_to_api against wattprint's own collector (`wattprint serve` on
127.0.0.1): the deltas land as the run's intervals while it runs, and stop()
sends the exact record, so the collector's totals equal the tracker's; with
the collector down, the record is spooled and lands later."""

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import kwh
from wattprint import EmissionsTracker, OutputMethod

WATTPRINT = os.environ.get("WP_TEST_WATTPRINT")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def collector(tmp_path):
    db = f"sqlite:{tmp_path}/c.db"
    project = json.loads(subprocess.run([WATTPRINT, "admin", "--db", db, "create-project", "Lab", "nlp"],
                                        check=True, capture_output=True, text=True).stdout)
    port = free_port()
    proc = subprocess.Popen([WATTPRINT, "serve", "--db", db, "--listen", f"127.0.0.1:{port}"],
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    project["base"] = base
    yield project
    proc.terminate()
    proc.wait(timeout=10)


def get(c, path):
    req = urllib.request.Request(c["base"] + path, headers={"Authorization": f"Bearer {c['token']}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_save_to_api_lands_with_the_trackers_exact_totals(env, collector, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", env.home)
    t = EmissionsTracker(output_methods=[OutputMethod.API], api_endpoint=collector["base"],
                         api_key=collector["token"], experiment_id=collector["experiment_id"],
                         measure_power_secs=0.1, api_call_interval=2)
    t.start()
    env.add(3600000, 360000)
    deadline = time.monotonic() + 10
    run_path = f"/api/v1/runs/{t.run_id}/totals"
    streamed = None
    while time.monotonic() < deadline:
        try:
            streamed = get(collector, run_path)
            if streamed["intervals"] >= 1:
                break
        except urllib.error.HTTPError:
            pass
        time.sleep(0.05)
    assert streamed and streamed["intervals"] >= 1  # deltas arrive while it runs
    env.add(7200000, 0)
    t.stop()
    data = t.final_emissions_data
    totals = get(collector, run_path)
    assert totals["emissions_kg"] == data.emissions  # the record's own figure, not a sum of deltas
    assert totals["energy_kwh"] == pytest.approx(kwh(3600000 + 360000 + 7200000), rel=1e-12)
    run = get(collector, f"/api/v1/runs/{t.run_id}")
    assert run["complete"] and run["experiment_id"] == collector["experiment_id"]
    assert run["record"]["metadata"]["run_id"] == str(t.run_id)
    spool = os.path.join(env.home, "wattprint", "spool")
    assert not [f for f in os.listdir(spool) if f.endswith(".json")]


def test_save_to_api_with_the_collector_down_spools_the_record(env, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", env.home)
    port = free_port()
    t = EmissionsTracker(output_methods=[OutputMethod.API], api_endpoint=f"http://127.0.0.1:{port}",
                         api_key="wpt_x", experiment_id="e")
    t.start()
    env.add(3600000)
    assert t.stop() is not None  # the program goes on
    spool = os.path.join(env.home, "wattprint", "spool")
    assert os.listdir(spool) and f"{t.run_id}.json" in os.listdir(spool)
    record = json.load(open(os.path.join(spool, f"{t.run_id}.json")))
    assert record["emissions"]["kg"] == t.final_emissions_data.emissions


def test_a_server_that_is_not_wattprints_gets_codecarbons_protocol_only(env, monkeypatch):
    import http.server
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(("GET", self.path))
            self.send_response(404)
            self.end_headers()

        def do_POST(self):
            seen.append(("POST", self.path))
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "r1"}')

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("XDG_STATE_HOME", env.home)
    t = EmissionsTracker(output_methods=[OutputMethod.API], api_endpoint=f"http://127.0.0.1:{server.server_port}",
                         api_key="k", experiment_id="e")
    t.start()
    env.add(3600000)
    t.stop()
    server.shutdown()
    assert ("GET", "/api/v1/info") in seen
    assert ("POST", "/runs") in seen and ("POST", "/emissions") in seen
    assert not any(p.startswith("/api/v1/runs") for _, p in seen)
    assert not os.path.isdir(os.path.join(env.home, "wattprint", "spool"))


def test_save_to_api_from_codecarbon_variables_and_config_file(env, collector, monkeypatch):
    """As CodeCarbon reads them: CODECARBON_* variables, and .codecarbon.config."""
    monkeypatch.setenv("XDG_STATE_HOME", env.home)
    monkeypatch.setenv("CODECARBON_SAVE_TO_API", "true")
    monkeypatch.setenv("CODECARBON_API_ENDPOINT", collector["base"])
    monkeypatch.setenv("CODECARBON_API_KEY", collector["token"])
    with open(".codecarbon.config", "w") as f:
        f.write(f"[codecarbon]\nexperiment_id = {collector['experiment_id']}\nsave_to_file = false\n")
    t = EmissionsTracker()
    t.start()
    env.add(3600000)
    t.stop()
    run = get(collector, f"/api/v1/runs/{t.run_id}")
    assert run["complete"] and run["experiment_id"] == collector["experiment_id"]
    assert run["figures"]["emissions_kg"] == t.final_emissions_data.emissions
