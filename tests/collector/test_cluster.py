"""Cluster jobs joined over their nodes, yearly CO2e budgets per Slurm
account, and `run --attach`, the Slurm plugin's measuring process: real
`wattprint run` jobs (a fake RAPL tree, SLURM_* variables as
slurmstepd sets them) send their records to `wattprint serve`; `wattprint
budget set|status|check` and `wattprint job` read them back."""

import json
import os
import subprocess
import time

import pytest

from test_collector import WATTPRINT, Collector, free_port

PKG = "sys/class/powercap/intel-rapl:0"


@pytest.fixture
def site(tmp_path):
    c = Collector(tmp_path / "collector")
    admin = json.loads(subprocess.run([WATTPRINT, "admin", "--db", c.db, "create-token", "--kind", "admin"],
                                      check=True, capture_output=True, text=True).stdout)["token"]
    reader = json.loads(subprocess.run(
        [WATTPRINT, "admin", "--db", c.db, "create-token", "--kind", "organization", "--scope",
         c.project["organization_id"], "--read"], check=True, capture_output=True, text=True).stdout)["token"]
    tree = tmp_path / "tree"
    d = tree / PKG
    d.mkdir(parents=True)
    for name, value in (("name", "package-0"), ("max_energy_range_uj", "262143328850"), ("enabled", "1"),
                        ("energy_uj", "%012d" % 1_000_000_000)):
        (d / name).write_text(value + "\n")
    yield {"c": c, "admin": admin, "reader": reader, "tree": tree, "tmp": tmp_path}
    c.stop()


def job_step(site, job_id, node, joules, account="physics"):
    """One step of a cluster job on one node, moving the package counter
    after a second (a plausible power: a jump of kilowatts is dropped)."""
    energy = site["tree"] / PKG / "energy_uj"
    now = int(energy.read_text())
    script = f'sleep 1; printf "%012d\\n" {now + joules * 1_000_000} 1<> {energy}'
    env = dict(os.environ, SLURM_JOB_ID=str(job_id), SLURM_STEP_ID="0", SLURM_CLUSTER_NAME="wptest",
               SLURMD_NODENAME=node, SLURM_JOB_USER="ada", SLURM_JOB_ACCOUNT=account, SLURM_JOB_PARTITION="debug")
    p = subprocess.run([WATTPRINT, "run", "--sysfs-root", str(site["tree"] / "sys"), "--no-cloud-metadata",
                        "--intensity", "500", "--scope", "machine", "--no-save", "--quiet", "--collector",
                        site["c"].base, "--collector-token", site["c"].project["token"], "--", "sh", "-c", script],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def cli(site, *args, token="reader", url=None):
    return subprocess.run([WATTPRINT, *args, "--collector", url or site["c"].base, "--collector-token",
                           site[token]], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, XDG_RUNTIME_DIR=str(site["tmp"])))


def job_json(site, job_id):
    status, out = site["c"].request("GET", f"/api/v1/jobs/wptest/{job_id}", token=site["admin"], header="bearer")
    assert status == 200, out
    return out


def spent(site, account="physics"):
    status, out = site["c"].request("GET", f"/api/v1/budgets/{account}", token=site["admin"], header="bearer")
    assert status == 200, out
    return out


def test_a_job_over_two_nodes_is_joined_and_shown(site):
    job_step(site, 101, "n1", 180)  # 0.05 Wh
    job_step(site, 101, "n2", 360)
    p = cli(site, "job", "101", "--cluster", "wptest")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "job 101 on cluster 'wptest': user ada, account physics, partition debug"
    rows = {l.split()[0]: l.split() for l in lines[2:] if l.split()}
    job = job_json(site, 101)
    kwh = {n["node"]: n["energy_kwh"] for n in job["nodes"]}
    # The package moved 180 J and 360 J (0.05 and 0.1 Wh); the rest is the
    # estimated RAM of this machine for the two seconds.
    assert 0.05 <= kwh["n1"] * 1000 < 0.06 and 0.1 <= kwh["n2"] * 1000 < 0.11
    assert rows["n1"][2] == f"{kwh['n1'] * 1000:.3f}" and rows["n2"][2] == f"{kwh['n2'] * 1000:.3f}"
    total = job["totals"]
    assert rows["total"][1] == "2" and rows["total"][2] == f"{total['energy_kwh'] * 1000:.3f}"
    assert total["emissions_kg"] == pytest.approx(total["energy_kwh"] * 0.5, rel=1e-9)  # 500 g/kWh
    assert job["partition"] == "debug" and job["intensity"]["source"]
    block = cli(site, "job", "101", "--cluster", "wptest", "--block")
    assert block.returncode == 0
    assert "-- wattprint: job 101 (2 nodes) --" in block.stdout
    assert f"energy {total['energy_kwh'] * 1000:.3f} Wh, CO2e {total['emissions_kg'] * 1e3:.3f} g" in block.stdout
    assert "intensity: " in block.stdout and "details: wattprint job 101" in block.stdout
    missing = cli(site, "job", "999", "--cluster", "wptest")
    assert missing.returncode == 1 and missing.stderr.startswith("wattprint: error: cannot read job 999")


def test_budget_warns_at_80_and_95_percent_and_refuses_over_it(site):
    job_step(site, 201, "n1", 360)  # 0.1 Wh: 0.05 g
    job_step(site, 202, "n1", 360, account="chemistry")
    used = job_json(site, 201)["totals"]["emissions_kg"]
    assert 0.05e-3 <= used < 0.06e-3
    assert cli(site, "budget", "check", "physics", "--cache-ttl", "0").returncode == 0  # no budget: allowed
    bad = cli(site, "budget", "set", "physics", "--year", str(time.gmtime().tm_year), "--kg", "1")  # a reader may not set one
    assert bad.returncode == 1 and "admin" in bad.stderr
    for kg, code, needle in ((used / 0.5, 0, None), (used / 0.85, 0, "has spent 85 % of its"),
                             (used / 0.97, 0, "has spent 97 % of its"), (used * 0.9, 1, "has spent its")):
        s = cli(site, "budget", "set", "physics", "--year", str(time.gmtime().tm_year), "--kg", repr(kg), token="admin")
        assert s.returncode == 0, s.stderr
        p = cli(site, "budget", "check", "physics", "--cache-ttl", "0")
        assert p.returncode == code, (kg, p.stdout, p.stderr)
        if needle is None:
            assert p.stdout == ""
        else:
            assert needle in p.stdout and p.stdout.count("\n") == 1, p.stdout
            assert "account physics" in p.stdout and "details: wattprint budget status physics" in p.stdout
    out = spent(site)
    assert out["spent_kg"] == pytest.approx(used, rel=1e-9)  # chemistry's job is not physics'
    assert out["state"] == "over" and out["remaining_kg"] == 0 and 0 < out["year_gone"] < 1
    status = cli(site, "budget", "status")
    assert status.returncode == 0
    assert [l.split()[0] for l in status.stdout.splitlines()] == ["account", "physics"]
    assert "over" in status.stdout.splitlines()[1]


def test_a_burst_of_checks_asks_the_collector_once(site):
    job_step(site, 301, "n1", 360)
    assert cli(site, "budget", "set", "physics", "--year", str(time.gmtime().tm_year), "--kg", "0.00001", token="admin").returncode == 0
    assert cli(site, "budget", "check", "physics").returncode == 1  # over, and cached
    assert cli(site, "budget", "set", "physics", "--year", str(time.gmtime().tm_year), "--kg", "100", token="admin").returncode == 0
    assert cli(site, "budget", "check", "physics").returncode == 1  # the cached answer, for 30 s
    assert cli(site, "budget", "check", "physics", "--cache-ttl", "0").returncode == 0
    # A cache file that is not what wattprint writes is asked again, not trusted.
    for f in os.listdir(site["tmp"] / "wattprint"):
        (site["tmp"] / "wattprint" / f).write_text("{not json")
    assert cli(site, "budget", "check", "physics").returncode == 0


def test_an_unreachable_collector_follows_the_sites_policy(site):
    gone = f"http://127.0.0.1:{free_port()}"
    allow = cli(site, "budget", "check", "physics", url=gone)
    assert allow.returncode == 0
    assert allow.stdout.startswith("wattprint: warning: cannot check the CO2e budget of account physics")
    assert allow.stdout.rstrip().endswith("allowed by the site's policy")
    refuse = cli(site, "budget", "check", "physics", "--policy", "refuse", url=gone)
    assert refuse.returncode == 1 and refuse.stdout.rstrip().endswith("refused by the site's policy")
    bad = cli(site, "budget", "check", "phys ics")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1


def test_the_budget_api_checks_its_input(site):
    c = site["c"]
    assert c.request("PUT", "/api/v1/budgets/physics/2026", {"kg": 5}, token=c.project["token"],
                     header="bearer")[0] == 403
    assert c.request("PUT", "/api/v1/budgets/physics/2026", {"kg": -5}, token=site["admin"], header="bearer")[0] == 422
    assert c.request("PUT", "/api/v1/budgets/physics/2026", {"kilos": 5}, token=site["admin"],
                     header="bearer")[0] == 422
    assert c.request("GET", "/api/v1/budgets/physics?year=20x6", token=site["reader"], header="bearer")[0] == 422
    assert c.request("GET", "/api/v1/budgets/physics?year=2026", token=site["reader"], header="bearer")[0] == 404
    status, out = c.request("PUT", "/api/v1/budgets/physics/2026", {"kg": 5}, token=site["admin"], header="bearer")
    assert status == 200 and out["budget_kg"] == 5 and out["year"] == 2026
    status, listed = c.request("GET", "/api/v1/budgets?year=2026", token=site["reader"], header="bearer")
    assert status == 200 and [b["account"] for b in listed["budgets"]] == ["physics"]
    assert c.request("GET", "/api/v1/budgets", token=None)[0] == 401


def test_run_attach_measures_a_running_tree_until_it_ends_or_is_stopped(site):
    """What the Slurm plugin starts beside each step: `run --attach PID`."""
    tree, tmp = site["tree"], site["tmp"]
    energy = tree / PKG / "energy_uj"
    start = int(energy.read_text())
    target = subprocess.Popen(["sh", "-c", f'sleep 1; printf "%012d\\n" {start + 200_000_000} 1<> {energy}; sleep 0.5'])
    record = tmp / "attached.json"
    p = subprocess.run([WATTPRINT, "run", "--attach", str(target.pid), "--sysfs-root", str(tree / "sys"),
                        "--no-cloud-metadata", "--intensity", "500", "--scope", "machine", "--no-save", "--quiet",
                        "--json", str(record)], capture_output=True, text=True, timeout=30)
    assert target.wait(timeout=10) == 0
    assert p.returncode == 0, p.stderr
    out = json.loads(record.read_text())
    assert out["command"][:2] == ["sh", "-c"]
    assert out["process_tree"]["cpu_time_source"] == f"procfs walk (attached to process {target.pid})"
    assert out["exit_code"] is None  # not ours to report
    assert out["energy"]["machine"]["j"] >= 200 - 1e-9
    # SIGINT ends it before the process does, with its record written.
    sleeper = subprocess.Popen(["sleep", "30"])
    proc = subprocess.Popen([WATTPRINT, "run", "--attach", str(sleeper.pid), "--sysfs-root", str(tree / "sys"),
                             "--no-cloud-metadata", "--intensity", "500", "--no-save", "--quiet", "--json",
                             str(tmp / "stopped.json")], stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    proc.send_signal(2)
    assert proc.wait(timeout=10) == 0, proc.stderr.read()
    assert sleeper.poll() is None  # the measured process is not touched
    sleeper.kill()
    assert json.loads((tmp / "stopped.json").read_text())["metadata"]["run_id"]
    gone = subprocess.run([WATTPRINT, "run", "--attach", "999999999", "--no-save"], capture_output=True, text=True)
    assert gone.returncode == 2 and "no such process" in gone.stderr
    both = subprocess.run([WATTPRINT, "run", "--attach", "1", "--", "true"], capture_output=True, text=True)
    assert both.returncode == 2 and "not both" in both.stderr


def test_report_of_a_job_read_from_the_collector(site):
    """`wattprint report --project ID --job J` reads the job's records from
    the collector (page by page, each run's record) and reports that job
    alone, joined over its nodes; a bad selection is a one-line error."""
    for node, joules in (("n1", 40), ("n2", 60)):
        job_step(site, 501, node, joules)
    job_step(site, 502, "n1", 25)
    project = site["c"].project["project_id"]
    p = cli(site, "report", "--project", project, "--job", "501")
    assert p.returncode == 0, p.stderr
    statement = next(line for line in p.stdout.splitlines() if line.startswith("> "))
    # The collector's own join of the job: the report's total is the same
    # (100 J of measured package energy plus this machine's estimated RAM,
    # at the 500 g/kWh given), to the report's three figures.
    total = job_json(site, 501)["totals"]
    joules, mg = total["energy_kwh"] * 3.6e6, total["emissions_kg"] * 1e6
    assert 100 < joules < 150
    assert "The 2 runs (1 Slurm job on 2 nodes)" in statement
    assert f"used {joules:.3g} J (" in statement, statement
    assert f"emitted {mg:.3g} mg (" in statement, statement
    assert "CPU measured (hardware energy counter); DRAM estimated" in statement
    assert "Grid: 500 g CO2e/kWh (average basis): user-supplied (flag --intensity)." in statement
    assert "| wptest | 501 | physics | debug | n1, n2 | 2 |" in p.stdout
    everything = cli(site, "report", "--project", project, "--format", "html")
    assert everything.returncode == 0, everything.stderr
    assert "The 3 runs (2 Slurm jobs on 2 nodes)" in everything.stdout
    bad = cli(site, "report", "--project", "no-such-project")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert bad.stderr.startswith("wattprint: error: the collector: HTTP 404"), bad.stderr
    unreachable = cli(site, "report", "--project", project, url=f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1, unreachable.stderr
