"""Agents that report to the collector: `wattprint run --collector`, the
spool when the collector is down or does not answer, `wattprint upload`,
and exactly-once delivery through a server killed under load."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest

from test_collector import WATTPRINT, Collector, free_port


def run_wattprint(args, env_extra=None, **kw):
    env = dict(os.environ, WATTPRINT_CLOUD_METADATA="false", **(env_extra or {}))
    return subprocess.run([WATTPRINT] + args, capture_output=True, text=True, env=env, **kw)


def spool_files(spool):
    return sorted(f for f in os.listdir(spool) if f.endswith(".json")) if os.path.isdir(spool) else []


@pytest.fixture
def collector(tmp_path):
    c = Collector(tmp_path)
    yield c
    if c.proc.poll() is None:
        c.stop()


def test_run_sends_its_record_and_keeps_the_commands_exit_code(collector, tmp_path):
    spool = tmp_path / "spool"
    record = tmp_path / "run.json"
    r = run_wattprint(["run", "--collector", collector.base, "--collector-token", collector.project["token"],
                       "--spool-dir", str(spool), "--json", str(record), "--", "sh", "-c", "echo out; exit 3"],
                      cwd=tmp_path)
    assert r.returncode == 3 and r.stdout == "out\n", r.stderr
    assert "note:" not in r.stderr, r.stderr
    assert spool_files(spool) == []
    rec = json.loads(record.read_text())
    status, totals = collector.request("GET", f"/api/v1/projects/{collector.project['project_id']}/totals",
                                       token=collector.project["token"])
    assert status == 200 and totals["runs"] == 1
    assert totals["emissions_kg"] == rec["emissions"]["kg"]
    status, run = collector.request("GET", f"/api/v1/runs/{rec['metadata']['run_id']}",
                                    token=collector.project["token"])
    assert run["record"]["metadata"]["run_id"] == rec["metadata"]["run_id"]
    assert run["record"]["metadata"]["host"] == socket.gethostname()


def test_slurm_variables_fill_the_cluster_job_and_flags_override_them(collector, tmp_path):
    token = collector.project["token"]
    slurm = {"SLURM_CLUSTER_NAME": "hpc", "SLURM_JOB_ID": "777", "SLURM_STEP_ID": "0", "SLURMD_NODENAME": "n01",
             "SLURM_JOB_USER": "ada", "SLURM_JOB_ACCOUNT": "physics"}
    for node in ("n01", "n02"):
        r = run_wattprint(["run", "--collector", collector.base, "--collector-token", token, "--spool-dir",
                           str(tmp_path / "spool"), "--job-node", node, "--no-save", "--", "true"],
                          env_extra=slurm, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    admin = json.loads(subprocess.run([WATTPRINT, "admin", "--db", collector.db, "create-token", "--kind", "admin"],
                                      check=True, capture_output=True, text=True).stdout)["token"]
    status, job = collector.request("GET", "/api/v1/jobs/hpc/777", token=admin)
    assert status == 200, job
    assert job["user"] == "ada" and job["account"] == "physics"
    assert [n["node"] for n in job["nodes"]] == ["n01", "n02"]
    assert job["totals"]["runs"] == 2
    assert job["totals"]["energy_kwh"] == pytest.approx(sum(n["energy_kwh"] for n in job["nodes"]), rel=1e-12)


def test_a_collector_down_for_the_whole_run_gets_the_record_later(tmp_path):
    spool = tmp_path / "spool"
    port = free_port()  # nothing listens there
    record = tmp_path / "run.json"
    started = time.monotonic()
    r = run_wattprint(["run", "--collector", f"http://127.0.0.1:{port}", "--collector-token", "wpt_x",
                       "--spool-dir", str(spool), "--json", str(record), "--no-save", "--", "sh", "-c", "exit 5"],
                      cwd=tmp_path)
    assert r.returncode == 5
    assert time.monotonic() - started < 10
    assert "spooled" in r.stderr, r.stderr
    rec = json.loads(record.read_text())
    assert spool_files(spool) == [rec["metadata"]["run_id"] + ".json"]
    # The collector comes up; `wattprint upload` sends what was kept.
    c = Collector(tmp_path / "server")
    try:
        r = run_wattprint(["upload", "--collector", c.base, "--collector-token", c.project["token"],
                           "--spool-dir", str(spool)])
        assert r.returncode == 0, r.stderr
        assert "1 stored" in r.stderr
        assert spool_files(spool) == []
        status, totals = c.request("GET", f"/api/v1/projects/{c.project['project_id']}/totals",
                                   token=c.project["token"])
        assert totals["runs"] == 1 and totals["emissions_kg"] == rec["emissions"]["kg"]
        # Uploading the same record file again stores nothing twice.
        r = run_wattprint(["upload", "--collector", c.base, "--collector-token", c.project["token"],
                           "--spool-dir", str(spool), str(record)])
        assert r.returncode == 0, r.stderr
        assert c.request("GET", f"/api/v1/projects/{c.project['project_id']}/totals",
                         token=c.project["token"])[1]["runs"] == 1
    finally:
        c.stop()


class SwallowingProxy:
    """Forwards each request to the collector, then closes the connection
    without passing the answer on: an agent that sent but never saw the
    reply."""

    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.forwarded = 0
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            conn.settimeout(5)
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
            while len(body) < length:
                body += conn.recv(65536)
            with socket.create_connection(("127.0.0.1", self.target)) as up:
                up.sendall(head + b"\r\n\r\n" + body)
                up.recv(65536)  # the collector answered: the record is stored
            self.forwarded += 1
            time.sleep(2)  # the agent gives up first
            conn.close()


def test_an_agent_that_never_saw_the_answer_still_stores_exactly_once(collector, tmp_path):
    spool = tmp_path / "spool"
    proxy = SwallowingProxy(collector.port)
    record = tmp_path / "run.json"
    r = run_wattprint(["run", "--collector", f"http://127.0.0.1:{proxy.port}", "--collector-token",
                       collector.project["token"], "--collector-wait", "0.5", "--spool-dir", str(spool),
                       "--json", str(record), "--no-save", "--", "true"], cwd=tmp_path)
    assert r.returncode == 0
    deadline = time.monotonic() + 5
    while proxy.forwarded < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proxy.forwarded == 1  # the collector has it...
    assert len(spool_files(spool)) == 1, r.stderr  # ...but the agent could not know
    # The next agent replays it straight to the collector: stored once.
    r = run_wattprint(["run", "--collector", collector.base, "--collector-token", collector.project["token"],
                       "--spool-dir", str(spool), "--no-save", "--", "true"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert spool_files(spool) == []
    status, totals = collector.request("GET", f"/api/v1/projects/{collector.project['project_id']}/totals",
                                       token=collector.project["token"])
    assert totals["runs"] == 2  # the replayed one, once, and the new one
    rec = json.loads(record.read_text())
    assert collector.request("GET", f"/api/v1/runs/{rec['metadata']['run_id']}/totals",
                             token=collector.project["token"])[1]["emissions_kg"] == rec["emissions"]["kg"]


def synthetic_record(run_id, i):
    return {"metadata": {"run_id": run_id, "experiment_id": "", "start": "2026-06-01T00:00:00Z"},
            "duration_s": 1.0 + i,
            "emissions": {"scope": "machine", "kg": 1e-6 * (i + 1),
                          "machine": {"energy": {"kwh": 1e-5 * (i + 1)}}},
            "kinds": {}, "intensity": {"g_per_kwh": 100.0, "source": "test", "basis": "average"}}


def test_a_server_killed_under_load_keeps_every_acknowledged_record(tmp_path):
    c = Collector(tmp_path)
    token = c.project["token"]
    acked, unacked, lock = [], [], threading.Lock()
    ids = [str(uuid.uuid4()) for _ in range(400)]

    def post(chunk):
        for i, run_id in chunk:
            try:
                status, _ = c.request("POST", "/api/v1/runs", synthetic_record(run_id, i), token=token,
                                      header="bearer")
                ok = status in (200, 201)
            except Exception:  # noqa: BLE001 - a connection the kill cut
                ok = False
            with lock:
                (acked if ok else unacked).append((i, run_id))

    items = list(enumerate(ids))
    threads = [threading.Thread(target=post, args=(items[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(acked) >= 100:
                break
        time.sleep(0.01)
    c.proc.send_signal(signal.SIGKILL)
    c.proc.wait()
    for t in threads:
        t.join()
    assert len(acked) >= 100 and unacked  # the kill landed mid-load
    # Restarted on the same file: every acknowledged record is there.
    c.proc = subprocess.Popen([WATTPRINT, "serve", "--db", c.db, "--listen", f"127.0.0.1:{c.port}"],
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", c.port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    for i, run_id in acked:
        status, totals = c.request("GET", f"/api/v1/runs/{run_id}/totals", token=token)
        assert status == 200 and totals["emissions_kg"] == pytest.approx(1e-6 * (i + 1), rel=1e-12), run_id
    # The agents retry the rest: each is stored once.
    for i, run_id in unacked:
        status, _ = c.request("POST", "/api/v1/runs", synthetic_record(run_id, i), token=token, header="bearer")
        assert status in (200, 201)
    status, totals = c.request("GET", f"/api/v1/projects/{c.project['project_id']}/totals", token=token)
    assert totals["runs"] == len(ids)
    assert totals["emissions_kg"] == pytest.approx(sum(1e-6 * (i + 1) for i in range(len(ids))), rel=1e-9)
    c.stop()


def test_monitor_streams_intervals_then_its_exact_record(collector, tmp_path):
    token = collector.project["token"]
    record = tmp_path / "monitor.json"
    env = dict(os.environ, WATTPRINT_CLOUD_METADATA="false")
    p = subprocess.Popen([WATTPRINT, "monitor", "--collector", collector.base, "--collector-token", token,
                          "--spool-dir", str(tmp_path / "spool"), "--save-interval", "0.3", "--interval", "0.1",
                          "--json", str(record), "--quiet"], cwd=tmp_path, env=env, stderr=subprocess.PIPE,
                         text=True)
    project = collector.project["project_id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        totals = collector.request("GET", f"/api/v1/projects/{project}/totals", token=token)[1]
        if totals["intervals"] >= 2:
            break
        time.sleep(0.1)
    assert totals["intervals"] >= 2 and totals["runs"] == 1  # streamed while it runs
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=20) == 0, p.stderr.read()
    rec = json.loads(record.read_text())
    run = collector.request("GET", f"/api/v1/runs/{rec['metadata']['run_id']}", token=token)[1]
    assert run["complete"] and run["intervals"] >= 2
    assert run["figures"]["emissions_kg"] == rec["emissions"]["kg"]  # the exact total, not the streamed sum


def test_a_full_disk_answers_507_the_agent_spools_and_nothing_is_lost(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs and needs root (CI runs as root)")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(small)], check=True)
    c = None
    try:
        c = Collector(small)
        token = c.project["token"]
        for i in range(5):
            assert c.request("POST", "/api/v1/runs", synthetic_record(str(uuid.uuid4()), i), token=token,
                             header="bearer")[0] == 201
        # The disk fills up.
        with open(small / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        status, out = c.request("POST", "/api/v1/runs", synthetic_record(str(uuid.uuid4()), 9), token=token,
                                header="bearer")
        assert status == 507, (status, out)
        assert "space" in out["error"], out
        # An agent's record is kept for later, not lost; the command is undisturbed.
        spool = tmp_path / "spool"
        r = run_wattprint(["run", "--collector", c.base, "--collector-token", token, "--spool-dir", str(spool),
                           "--no-save", "--", "sh", "-c", "exit 4"], cwd=tmp_path)
        assert r.returncode == 4
        assert "507" in r.stderr and len(spool_files(spool)) == 1, r.stderr
        # Space comes back: the spool is replayed, and what was acknowledged is all there.
        os.unlink(small / "filler")
        r = run_wattprint(["upload", "--collector", c.base, "--collector-token", token, "--spool-dir", str(spool)])
        assert r.returncode == 0, r.stderr
        status, totals = c.request("GET", f"/api/v1/projects/{c.project['project_id']}/totals", token=token)
        assert status == 200 and totals["runs"] == 5 + 1
    finally:
        if c is not None and c.proc.poll() is None:
            c.stop()
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_upload_imports_the_runs_of_an_emissions_csv_once(collector, tmp_path):
    token = collector.project["token"]
    csv_path = tmp_path / "emissions.csv"
    src = os.path.join(os.path.dirname(__file__), "..", "..", "python", "tests", "data",
                       "codecarbon-3.3-emissions.csv")
    lines = open(src).read().splitlines()
    # A flush() row before the final one of the first run: rows of one run are cumulative.
    first = lines[1].split(",")
    early = list(first)
    early[5] = "1e-07"
    csv_path.write_text("\n".join([lines[0], ",".join(early)] + lines[1:]) + "\n")
    args = ["upload", "--collector", collector.base, "--collector-token", token, "--spool-dir",
            str(tmp_path / "spool"), str(csv_path)]
    for _ in range(2):  # twice: stored once
        r = run_wattprint(args)
        assert r.returncode == 0, r.stderr
    status, totals = collector.request("GET", f"/api/v1/projects/{collector.project['project_id']}/totals",
                                       token=token)
    rows = [l.split(",") for l in lines[1:]]
    assert totals["runs"] == 2
    assert totals["emissions_kg"] == pytest.approx(sum(float(r[5]) for r in rows), rel=1e-12)
    assert totals["energy_kwh"] == pytest.approx(sum(float(r[13]) for r in rows), rel=1e-12)
    status, run = collector.request("GET", f"/api/v1/runs/{rows[0][2]}", token=token)
    assert run["record"]["imported_from"] == "emissions.csv"
    assert run["figures"]["duration_s"] == float(rows[0][4])
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    r = run_wattprint(["upload", "--collector", collector.base, "--collector-token", token, "--spool-dir",
                       str(tmp_path / "spool"), str(bad)])
    assert r.returncode == 1 and "not an emissions CSV" in r.stderr
