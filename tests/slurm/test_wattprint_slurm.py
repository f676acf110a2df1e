"""wattprint on a real Slurm 22.05 (munge, slurmctld, two slurmd on
127.0.0.1): the SPANK plugin measures every step on each node with `wattprint
run --attach`, the collector (`wattprint serve`) joins a two-node job, the
job's output ends with its block, job_submit.lua refuses an account over its
budget and warns at 80 %, slurmstepd refuses a step of an account that ran
out while its job waited, and a job may opt out."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_cluster import SlurmCluster, slurm_installed  # noqa: E402

WATTPRINT = os.environ.get("WP_TEST_WATTPRINT", "")
PLUGIN = os.environ.get("WP_TEST_SPANK_PLUGIN", "")
LUA = Path(__file__).resolve().parents[2] / "plugins/slurm/job_submit.lua"

_missing = slurm_installed()
pytestmark = pytest.mark.skipif(
    _missing is not None or not PLUGIN,
    reason=f"Slurm ({_missing or 'ok'}) or the plugin ({PLUGIN or 'not built: no slurm/spank.h'}) is missing")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin(db, *args):
    return json.loads(subprocess.run([WATTPRINT, "admin", "--db", db, *args], check=True, capture_output=True,
                                     text=True).stdout)


class Site:
    def __init__(self, root):
        self.root = root
        self.db = f"sqlite:{root}/collector.db"
        self.project = admin(self.db, "create-project", "HPC", "jobs")
        self.admin = admin(self.db, "create-token", "--kind", "admin")["token"]
        # slurmctld checks with its own read token: its cache of answers is
        # then not the compute nodes' (as on two hosts).
        self.reader = admin(self.db, "create-token", "--kind", "organization", "--scope",
                            self.project["organization_id"], "--read")["token"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.serve = subprocess.Popen([WATTPRINT, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}"],
                                      stderr=open(root / "serve.log", "w"))
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the collector did not start"
                time.sleep(0.05)
        for name, token in (("node.token", self.project["token"]), ("ctld.token", self.reader)):
            (root / name).write_text(token + "\n")
            os.chmod(root / name, 0o600)
        # The measurements' site file: no cloud probe, a known grid.
        (root / "site.toml").write_text('country = "FRA"\ncloud_metadata = false\n')
        (root / "spool").mkdir(mode=0o700)
        lua = LUA.read_text()
        for var, value in (("WATTPRINT", f'"{WATTPRINT}"'), ("COLLECTOR", f'"{self.url}"'),
                           ("TOKEN_FILE", f'"{root / "ctld.token"}"'), ("CACHE_SECONDS", "0")):
            before = next(l for l in lua.splitlines() if l.startswith(f"local {var} = "))
            lua = lua.replace(before, f"local {var} = {value}")
        (root / "job_submit.lua").write_text(lua)
        plugstack = (f"required {PLUGIN} wattprint={WATTPRINT} collector={self.url} "
                     f"token_file={root / 'node.token'} spool={root / 'spool'} interval=1 config={root / 'site.toml'}")
        self.cluster = SlurmCluster(str(root / "slurm"), plugstack_lines=[plugstack],
                                    job_submit_lua=str(root / "job_submit.lua")).start()

    def api(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {self.admin}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def job(self, job_id, nodes, timeout=20):
        """The collector's view of a job once `nodes` nodes have reported."""
        deadline = time.monotonic() + timeout
        while True:
            status, out = self.api("GET", f"/api/v1/jobs/wptest/{job_id}")
            if status == 200 and len(out["nodes"]) >= nodes:
                return out
            assert time.monotonic() < deadline, (status, out)
            time.sleep(0.3)

    def stop(self):
        self.cluster.stop()
        self.serve.terminate()
        self.serve.wait(timeout=10)


@pytest.fixture(scope="module")
def site():
    root = Path(tempfile.mkdtemp(prefix="wpslurm", dir="/tmp"))
    os.chmod(root, 0o755)
    s = Site(root)
    yield s
    s.stop()


BUSY = "python3 -c 'import time; t = time.time()\nwhile time.time() - t < 1.5: pass'"


def test_a_two_node_job_is_measured_on_each_node_joined_and_shown(site):
    c = site.cluster
    job = c.sbatch(f"#!/bin/sh\nsrun -N2 {BUSY}\necho done\n", "-N2", "-A", "physics", "-p", "debug")
    info = c.wait_job(job, 60)
    assert info.get("JobState") == "COMPLETED", (info, c.slurmd_log("n1")[-3000:])
    out = site.job(job, nodes=2)
    assert [n["node"] for n in out["nodes"]] == ["n1", "n2"]
    assert out["account"] == "physics" and out["partition"] == "debug" and out["user"] == "root"
    assert out["intensity"]["zone"] == "FR"
    for n in out["nodes"]:
        assert n["energy_kwh"] > 0 and n["emissions_kg"] > 0  # the step's share, estimated on this VM
    assert out["totals"]["runs"] >= 3  # the batch step and the srun step on each node
    text = c.output_of(job)
    assert text.startswith("done\n"), text
    block = text[len("done\n"):]
    assert f"-- wattprint: job {job} (2 nodes) --" in block
    assert "energy " in block and "CO2e " in block and "zone FR" in block
    shown = subprocess.run([WATTPRINT, "job", str(job), "--cluster", "wptest", "--collector", site.url,
                            "--collector-token", site.admin], capture_output=True, text=True)
    assert shown.returncode == 0 and "n1" in shown.stdout and "n2" in shown.stdout and "total" in shown.stdout


def test_an_account_over_its_budget_cannot_submit_and_is_warned_at_80_percent(site):
    c = site.cluster
    job = c.sbatch(f"#!/bin/sh\n{BUSY}\n", "-A", "chemistry")
    c.wait_job(job, 60)
    spent = site.job(job, nodes=1)["totals"]["emissions_kg"]
    year = time.gmtime().tm_year
    assert site.api("PUT", f"/api/v1/budgets/chemistry/{year}", {"kg": spent / 0.85})[0] == 200
    time.sleep(0.1)
    warned = c.sbatch_proc(None, "-A", "chemistry", "--wrap", "true")
    assert warned.returncode == 0, warned.stderr
    assert "warning: account chemistry has spent 8" in warned.stderr
    assert site.api("PUT", f"/api/v1/budgets/chemistry/{year}", {"kg": spent / 2})[0] == 200
    refused = c.sbatch_proc(None, "-A", "chemistry", "--wrap", "true")
    assert refused.returncode != 0
    assert (f"account chemistry has spent its {year} CO2e budget" in refused.stderr and
            "details: wattprint budget status chemistry" in refused.stderr), refused.stderr
    other = c.sbatch_proc(None, "-A", "biology", "--wrap", "true")
    assert other.returncode == 0, other.stderr


def test_slurmstepd_refuses_a_step_of_an_account_that_ran_out_while_it_waited(site):
    c = site.cluster
    year = time.gmtime().tm_year
    job = c.sbatch("#!/bin/sh\necho ran\n", "-A", "late", "--begin=now+5")  # allowed: no budget yet
    assert site.api("PUT", f"/api/v1/budgets/late/{year}", {"kg": 0})[0] == 200
    c.wait_job(job, 60)
    assert "ran" not in c.output_of(job)
    logs = c.slurmd_log("n1") + c.slurmd_log("n2")
    assert f"account late has spent its {year} CO2e budget" in logs
    for node in ("n1", "n2"):
        c.resume(node)  # a batch step that fails to launch drains its node


def test_a_job_may_opt_out(site):
    c = site.cluster
    job = c.sbatch("#!/bin/sh\necho quiet\n", "-A", "physics", "--wattprint=off")
    c.wait_job(job, 60)
    assert c.output_of(job) == "quiet\n"
    time.sleep(1)
    assert site.api("GET", f"/api/v1/jobs/wptest/{job}")[0] == 404
