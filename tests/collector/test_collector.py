"""`wattprint serve` on SQLite, driven over HTTP on 127.0.0.1: CodeCarbon
3.3's recorded client requests, a `wattprint run --json` record, tokens and
bad input."""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

WATTPRINT = os.environ["WP_TEST_WATTPRINT"]
TRACE = os.path.join(os.environ["WP_TEST_FIXTURES"], "codecarbon", "trace-3.3.0.jsonl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    def __init__(self, tmp_path):
        os.makedirs(tmp_path, exist_ok=True)
        self.db = f"sqlite:{tmp_path}/c.db"
        out = subprocess.run([WATTPRINT, "admin", "--db", self.db, "create-project", "Acme Lab", "vision"],
                             check=True, capture_output=True, text=True).stdout
        self.project = json.loads(out)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([WATTPRINT, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}"],
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the collector did not start")

    def request(self, method, path, body=None, token=None, header="x-api-token", raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"content-type": "application/json"}
        if token and header == "x-api-token":
            headers["x-api-token"] = token  # as CodeCarbon's client
        elif token:
            headers["Authorization"] = f"Bearer {token}"  # as wattprint's agents
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=10) == 0


@pytest.fixture
def collector(tmp_path):
    c = Collector(tmp_path)
    yield c
    c.stop()


def replay_trace(c, token):
    run_id, deltas = None, []
    for line in open(TRACE):
        r = json.loads(line)
        body = r["body"]
        if r["path"] == "/runs":
            body["experiment_id"] = c.project["experiment_id"]
        else:
            body["run_id"] = run_id
            deltas.append(body)
        status, out = c.request(r["method"], r["path"], body, token=token)
        assert status == 201, out
        if r["path"] == "/runs":
            run_id = out["id"]
    return run_id, deltas


def test_codecarbon_clients_requests_are_accepted_and_summed(collector):
    token = collector.project["token"]
    run_id, deltas = replay_trace(collector, token)
    status, sums = collector.request("GET", f"/projects/{collector.project['project_id']}/sums", token=token)
    assert status == 200
    assert sums["emissions"] == pytest.approx(sum(d["emissions_sum"] for d in deltas), rel=1e-12)
    assert sums["energy_consumed"] == pytest.approx(sum(d["energy_consumed"] for d in deltas), rel=1e-12)
    assert sums["cpu_energy"] == pytest.approx(sum(d["cpu_energy"] for d in deltas), rel=1e-12)
    assert sums["emissions_count"] == 4 and sums["duration"] == sum(d["duration"] for d in deltas)
    # The recorded run's own README: the four deltas hold 2.283e-06 kg.
    assert sums["emissions"] == pytest.approx(2.283e-06, rel=1e-3)
    status, runs = collector.request("GET", f"/experiments/{collector.project['experiment_id']}/runs/sums",
                                     token=token)
    assert status == 200 and [r["run_id"] for r in runs] == [run_id]
    status, org = collector.request("GET", f"/organizations/{collector.project['organization_id']}/sums",
                                    token=token)
    assert status == 403  # a project token does not read the organisation
    status, totals = collector.request("GET", f"/api/v1/runs/{run_id}/totals", token=token, header="bearer")
    assert status == 200 and totals["intervals"] == 4
    assert totals["emissions_kg"] == pytest.approx(sums["emissions"], rel=1e-12)


def test_tokens_401_403_and_revocation(collector, tmp_path):
    token = collector.project["token"]
    exp = collector.project["experiment_id"]
    run = {"timestamp": "2026-12-01T08:43:22+00:00", "experiment_id": exp}
    assert collector.request("POST", "/runs", run)[0] == 401
    assert collector.request("POST", "/runs", run, token="wpt_" + "0" * 64)[0] == 401
    other = json.loads(subprocess.run([WATTPRINT, "admin", "--db", collector.db, "create-project", "Acme Lab",
                                       "other"], check=True, capture_output=True, text=True).stdout)
    status, out = collector.request("POST", "/runs", run, token=other["token"])
    assert status == 403, out
    assert collector.request("GET", "/auth/check", token=token)[0] == 200
    listing = json.loads(subprocess.run([WATTPRINT, "admin", "--db", collector.db, "list"], check=True,
                                        capture_output=True, text=True).stdout)
    token_id = listing[0]["projects"][1]["tokens"][0]["id"]
    assert "token" not in listing[0]["projects"][1]["tokens"][0]  # secrets are never listed
    subprocess.run([WATTPRINT, "admin", "--db", collector.db, "revoke-token", token_id], check=True)
    status, out = collector.request("GET", "/auth/check", token=token)
    assert status == 401 and "revoked" in out["error"]


def test_bad_bodies_get_4xx_naming_the_field_and_store_nothing(collector):
    token = collector.project["token"]
    exp = collector.project["experiment_id"]
    status, out = collector.request("POST", "/runs", raw=b"{not json", token=token)
    assert status == 400 and "JSON" in out["error"]
    status, out = collector.request("POST", "/runs", {"experiment_id": exp, "timestamp": "yesterday"}, token=token)
    assert status == 422 and out["field"] == "timestamp"
    status, out = collector.request("POST", "/runs", {"experiment_id": "nope", "timestamp": "2026-01-01"},
                                    token=token)
    assert status == 404 and out["field"] == "experiment_id"
    status, made = collector.request("POST", "/runs", {"experiment_id": exp, "timestamp": "2026-01-01T00:00:00Z"},
                                     token=token)
    assert status == 201
    good = {"run_id": made["id"], "timestamp": "2026-01-01T00:00:10Z", "duration": 10, "emissions_sum": 1e-6,
            "emissions_rate": 1e-7, "cpu_power": 1, "gpu_power": 0, "ram_power": 2, "cpu_energy": 1e-6,
            "gpu_energy": 0, "ram_energy": 2e-6, "energy_consumed": 3e-6}
    for field, value in [("cpu_energy", -1), ("duration", "ten"), ("emissions_sum", None)]:
        status, out = collector.request("POST", "/emissions", dict(good, **{field: value}), token=token)
        assert status == 422 and out["field"] == field, out
    status, out = collector.request("POST", "/emissions", raw=json.dumps(good).replace("1e-06", "NaN").encode(),
                                    token=token)
    assert status == 400  # NaN is not JSON
    status, out = collector.request("POST", "/emissions", raw=b"x" * (9 << 20), token=token)
    assert status == 413
    status, totals = collector.request("GET", f"/api/v1/runs/{made['id']}/totals", token=token)
    assert totals["intervals"] == 0 and totals["energy_kwh"] == 0  # nothing half-stored
    assert collector.request("GET", "/no/such/route")[0] == 404
    # Times and durations that are not: one 422 each, naming the field.
    for ts in ("2026-02-31T00:00:00Z", "2026-01-01T00:00:00+99:99", "2026-01-01T00:00:00+00:00junk",
               "2026-01-01T-1:-1:00Z", "1969-12-31T23:59:59Z"):
        status, out = collector.request("POST", "/runs", {"experiment_id": exp, "timestamp": ts}, token=token)
        assert status == 422 and out["field"] == "timestamp", (ts, out)
    status, out = collector.request("POST", "/emissions", dict(good, duration=1e13), token=token)
    assert status == 422 and out["field"] == "duration"


def test_a_wattprint_record_lands_once_with_its_exact_totals(collector, tmp_path):
    token = collector.project["token"]
    record_path = tmp_path / "run.json"
    subprocess.run([WATTPRINT, "run", "--no-cloud-metadata", "--json", str(record_path), "--", "sleep", "0.2"],
                   check=True, capture_output=True, cwd=tmp_path)
    record = json.loads(record_path.read_text())
    status, out = collector.request("POST", "/api/v1/runs", record, token=token, header="bearer")
    assert status == 201 and out["stored"], out
    # The record named no experiment of this project: it lands in the default one.
    assert out["experiment_id"] == collector.project["experiment_id"]
    status, again = collector.request("POST", "/api/v1/runs", record, token=token, header="bearer")
    assert status == 200 and not again["stored"]
    status, totals = collector.request("GET", f"/api/v1/projects/{collector.project['project_id']}/totals",
                                       token=token)
    assert totals["runs"] == 1
    assert totals["emissions_kg"] == record["emissions"]["kg"]
    scope = record["emissions"]["scope"]
    assert totals["energy_kwh"] == record["emissions"][scope]["energy"]["kwh"]
    status, run = collector.request("GET", f"/api/v1/runs/{out['id']}", token=token)
    assert status == 200 and run["record"] == record and run["complete"]
    changed = dict(record, duration_s=record["duration_s"] + 1)
    assert collector.request("POST", "/api/v1/runs", changed, token=token, header="bearer")[0] == 409
    # Another project's token cannot complete (overwrite) this project's open runs.
    status, cc_run = collector.request("POST", "/runs", {"experiment_id": collector.project["experiment_id"],
                                                         "timestamp": "2026-12-01T00:00:00Z"}, token=token)
    other = json.loads(subprocess.run([WATTPRINT, "admin", "--db", collector.db, "create-project", "Acme Lab",
                                       "other"], check=True, capture_output=True, text=True).stdout)
    hijack = json.loads(json.dumps(record))
    hijack["metadata"]["run_id"] = cc_run["id"]
    hijack["metadata"]["experiment_id"] = other["experiment_id"]
    status, out = collector.request("POST", "/api/v1/runs", hijack, token=other["token"], header="bearer")
    assert status == 403, out
    status, out = collector.request("POST", f"/api/v1/runs/{cc_run['id']}/intervals",
                                    {"intervals": []}, token=other["token"], header="bearer")
    assert status == 403, out
    assert not collector.request("GET", f"/api/v1/runs/{cc_run['id']}", token=token)[1]["complete"]


def test_a_burst_of_agents_at_once_is_served_without_errors(collector):
    """The end of a cluster job: many agents connect in the same instant.
    (httplib's own listen backlog of 5 once dropped some of them.)"""
    token = collector.project["token"]
    results = []
    barrier = threading.Barrier(96)

    def agent():
        barrier.wait()
        status, _ = collector.request("POST", "/runs", {"experiment_id": collector.project["experiment_id"],
                                                        "timestamp": "2026-12-01T00:00:00Z"}, token=token)
        results.append(status)

    threads = [threading.Thread(target=agent) for _ in range(96)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(201) == 96, results


def test_listings_series_and_paging(collector, tmp_path):
    token = collector.project["token"]
    pid, eid, oid = (collector.project[k] for k in ("project_id", "experiment_id", "organization_id"))
    run_id, deltas = replay_trace(collector, token)
    status, runs = collector.request("GET", f"/api/v1/projects/{pid}/runs?limit=1", token=token)
    assert status == 200 and [r["id"] for r in runs["runs"]] == [run_id] and runs["limit"] == 1
    assert collector.request("GET", f"/api/v1/experiments/{eid}/runs", token=token)[1]["runs"][0]["id"] == run_id
    assert collector.request("GET", f"/api/v1/projects/{pid}/runs?limit=0", token=token)[0] == 422
    assert collector.request("GET", f"/api/v1/projects/{pid}/runs?offset=-1", token=token)[0] == 422
    status, series = collector.request("GET", f"/api/v1/runs/{run_id}/series", token=token)
    assert status == 200 and [i["seq"] for i in series["intervals"]] == [1, 2, 3, 4]
    assert sum(i["emissions_kg"] for i in series["intervals"]) == pytest.approx(
        sum(d["emissions_sum"] for d in deltas), rel=1e-12)
    status, hourly = collector.request("GET", f"/api/v1/projects/{pid}/series?bucket=hour", token=token)
    assert status == 200 and hourly["bucket"] == "hour"
    assert sum(p["intervals"] for p in hourly["points"]) == 4
    assert all(p["bucket_start_us"] % 3600_000_000 == 0 for p in hourly["points"])
    status, out = collector.request("GET", f"/api/v1/projects/{pid}/series?bucket=minute", token=token)
    assert status == 422 and out["field"] == "bucket"
    status, exps = collector.request("GET", f"/api/v1/projects/{pid}/experiments", token=token)
    assert [e["id"] for e in exps] == [eid]
    # Organisation listings need an organisation or admin token.
    assert collector.request("GET", f"/api/v1/organizations/{oid}/projects", token=token)[0] == 403
    org_token = json.loads(subprocess.run([WATTPRINT, "admin", "--db", collector.db, "create-token", "--kind",
                                           "organization", "--scope", oid], check=True, capture_output=True,
                                          text=True).stdout)["token"]
    status, orgs = collector.request("GET", "/api/v1/organizations", token=org_token)
    assert status == 200 and [o["id"] for o in orgs] == [oid]
    status, projects = collector.request("GET", f"/api/v1/organizations/{oid}/projects", token=org_token)
    assert [p["id"] for p in projects] == [pid]
    assert collector.request("GET", f"/api/v1/organizations/{oid}/jobs", token=org_token) == (200, [])
    # An organisation token reads, never writes.
    status, _ = collector.request("POST", "/runs", {"experiment_id": eid, "timestamp": "2026-12-01T00:00:00Z"},
                                  token=org_token)
    assert status == 403
    # Another project's token reads nothing here; a public project is read by anyone.
    other = json.loads(subprocess.run([WATTPRINT, "admin", "--db", collector.db, "create-project", "Acme Lab",
                                       "other"], check=True, capture_output=True, text=True).stdout)
    assert collector.request("GET", f"/api/v1/runs/{run_id}/series", token=other["token"])[0] == 403
    assert collector.request("GET", f"/api/v1/projects/{pid}/totals")[0] == 401
    subprocess.run([WATTPRINT, "admin", "--db", collector.db, "set-public", pid, "true"], check=True)
    assert collector.request("GET", f"/api/v1/projects/{pid}/totals")[0] == 200


def test_serve_takes_its_settings_from_the_environment_and_wattprint_toml(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "wattprint.toml").write_text(f'db = "sqlite:{tmp_path}/from-toml.db"\n')
    port = free_port()
    env = dict(os.environ, WATTPRINT_LISTEN=f"127.0.0.1:{port}")
    made = subprocess.run([WATTPRINT, "admin", "create-project", "Lab", "p"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "from-toml.db").exists()  # admin read db from wattprint.toml
    proc = subprocess.Popen([WATTPRINT, "serve"], cwd=work, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        token = json.loads(made.stdout)["token"]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/auth/check", headers={"x-api-token": token})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # Bad settings: one line, exit 2.
    for args, extra_env in ((["serve", "--listen", "nowhere"], {}), (["serve"], {"WATTPRINT_LISTEN": ""}),
                            (["admin", "--db", "mysql://x", "list"], {})):
        r = subprocess.run([WATTPRINT] + args, cwd=work, env=dict(os.environ, **extra_env), capture_output=True,
                           text=True, timeout=10)
        assert r.returncode in (1, 2) and r.stderr.count("\n") == 1 and "error" in r.stderr, (args, r.stderr)
    (work / "wattprint.toml").write_text('dbb = "x"\n')
    r = subprocess.run([WATTPRINT, "serve"], cwd=work, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "did you mean 'db'" in r.stderr, r.stderr
