"""`wattprint run --pushgateway URL` against Debian's prometheus-pushgateway
on 127.0.0.1: the job's final figures arrive under its grouping key with
the exact joules the fake RAPL tree moved, the running figures arrive while
the command runs, and a gateway that is not there never changes the
command's exit code or output."""

import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from test_prometheus import DRAM, PKG, RANGE_UJ, free_port, make_tree, wait_port

WATTPRINT = os.environ["WP_TEST_WATTPRINT"]
PUSHGATEWAY = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"


@pytest.fixture
def gateway(tmp_path):
    port = free_port()
    # Debian's default persistence file is /var/lib/prometheus/pushgateway.data:
    # each test gets its own.
    proc = subprocess.Popen([PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                             f"--persistence.file={tmp_path / 'pushgateway.data'}"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "gateway.log", "w"))
    try:
        wait_port(port, "pushgateway", proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def samples(port):
    """{(name, frozenset(labels)): value} of what the gateway serves."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out = {}
    for line in body.splitlines():
        m = re.match(r'^(\w+)(?:\{(.*)\})? (\S+)$', line)
        if not m or line.startswith("#"):
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def pick(got, name, **want):
    hits = [v for (n, labels), v in got.items()
            if n == name and all((k, str(v)) in labels for k, v in want.items())]
    return hits


def run(tmp_path, root, *extra, script):
    cmd = [WATTPRINT, "run", "--sysfs-root", os.path.join(root, "sys"), "--no-cloud-metadata", "--country", "FRA",
           "--interval", "0.2", "--scope", "machine", "--no-save", "--quiet", *extra, "--", "sh", "-c", script]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def move(root, zone, uj):
    # Rewritten in place (<>: no truncation), as the kernel's sysfs does.
    return f'printf "%010d\\n" {uj % RANGE_UJ} 1<> {os.path.join(root, zone, "energy_uj")}'


def test_the_final_figures_arrive_grouped_by_job_with_the_exact_joules(tmp_path, gateway):
    root = str(tmp_path / "tree")
    make_tree(root, 1_000_000_000)
    script = f"{move(root, PKG, 1_125_000_000)}; {move(root, DRAM, 1_004_000_000)}; echo trained; exit 3"
    p = run(tmp_path, root, "--pushgateway", f"http://127.0.0.1:{gateway}", "--pushgateway-job", "train/resnet",
            script=script)
    assert p.returncode == 3, p.stderr
    assert p.stdout == "trained\n"
    assert p.stderr == ""
    got = samples(gateway)
    job = {"job": "train/resnet"}  # a '/' in the name: sent base64url-encoded
    cpu = pick(got, "wattprint_energy_joules_total", kind="cpu", counted="true", **job)
    dram = pick(got, "wattprint_energy_joules_total", kind="dram", **job)
    assert cpu == [pytest.approx(125.0, abs=1e-9)]
    assert dram == [pytest.approx(4.0, abs=1e-9)]
    assert pick(got, "wattprint_run_exit_code", **job) == [3]
    assert pick(got, "wattprint_run_duration_seconds", **job)[0] > 0
    assert pick(got, "wattprint_run_info", scope="machine", **job) == [1]
    # The CO2e is the joules at France's intensity: grams = kWh x g/kWh.
    grams = pick(got, "wattprint_emissions_grams_total", **job)
    intensity = [v for (n, labels), v in got.items() if n == "wattprint_grid_intensity_grams_per_kilowatt_hour"]
    assert grams and intensity
    assert max(grams) == pytest.approx(129.0 / 3.6e6 * intensity[0], rel=1e-9)
    # The gateway's own bookkeeping: this group's last push worked.
    assert pick(got, "push_failure_time_seconds", **job) == [0]


def test_the_running_figures_arrive_while_the_command_runs(tmp_path, gateway):
    root = str(tmp_path / "tree")
    make_tree(root, 1_000_000_000)
    script = f"{move(root, PKG, 1_050_000_000)}; sleep 3.5"
    proc = subprocess.Popen(
        [WATTPRINT, "run", "--sysfs-root", os.path.join(root, "sys"), "--no-cloud-metadata", "--country", "FRA",
         "--interval", "0.2", "--scope", "machine", "--no-save", "--quiet", "--pushgateway",
         f"http://127.0.0.1:{gateway}", "--pushgateway-interval", "1", "--", "sh", "-c", script],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 3
        during = []
        while time.monotonic() < deadline and not during:
            during = pick(samples(gateway), "wattprint_energy_joules_total", kind="cpu", job="wattprint")
            time.sleep(0.2)
        running = samples(gateway)
    finally:
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    assert during == [pytest.approx(50.0, abs=1e-9)]
    assert not pick(running, "wattprint_run_exit_code")  # not ended yet
    assert pick(samples(gateway), "wattprint_run_exit_code", job="wattprint") == [0]


def test_a_gateway_that_is_not_there_leaves_the_command_alone(tmp_path):
    root = str(tmp_path / "tree")
    make_tree(root, 1_000_000_000)
    p = run(tmp_path, root, "--pushgateway", f"http://127.0.0.1:{free_port()}", script="echo out; exit 7")
    assert p.returncode == 7
    assert p.stdout == "out\n"
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wattprint: warning: pushgateway http://127.0.0.1:"), p.stderr


def test_a_bad_pushgateway_url_is_a_usage_error(tmp_path):
    p = subprocess.run([WATTPRINT, "run", "--pushgateway", "127.0.0.1:9091", "--", "true"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "http://" in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr
