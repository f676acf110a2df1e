"""`wattprint monitor --prometheus` scraped by a real Prometheus (Debian's
2.42) on 127.0.0.1: the counters follow a fake RAPL tree exactly, across a
counter wrap, and a scrape passes `promtool check metrics`."""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

WATTPRINT = os.environ["WP_TEST_WATTPRINT"]
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
RANGE_UJ = 8_000_000_000  # 8000 J: ten digits, so every value is rewritten in place
PKG = "sys/class/powercap/intel-rapl:0"
DRAM = "sys/class/powercap/intel-rapl:0:0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_counter(root, zone, uj):
    text = f"{uj % RANGE_UJ:010d}\n".encode()
    fd = os.open(os.path.join(root, zone, "energy_uj"), os.O_WRONLY)
    try:
        os.pwrite(fd, text, 0)
    finally:
        os.close(fd)


def make_tree(root, start_uj):
    for zone, name in ((PKG, "package-0"), (DRAM, "dram")):
        d = os.path.join(root, zone)
        os.makedirs(d)
        for f, v in (("name", name), ("max_energy_range_uj", str(RANGE_UJ)), ("enabled", "1")):
            with open(os.path.join(d, f), "w") as fh:
                fh.write(v + "\n")
        with open(os.path.join(d, "energy_uj"), "w") as fh:
            fh.write(f"{start_uj:010d}\n")


def wait_port(port, what, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not listen on {port}")


def query(port, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = repr(at)
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        out = json.loads(r.read())
    assert out["status"] == "success", out
    return out["data"]["result"]


def value(port, expr, at=None):
    result = query(port, expr, at)
    return None if not result else float(result[0]["value"][1])


def start_prometheus(tmp_path, mport, pport):
    """Debian's Prometheus on 127.0.0.1:pport, scraping 127.0.0.1:mport every
    second, with its config, data and log under tmp_path."""
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      "scrape_configs:\n  - job_name: wattprint\n    static_configs:\n"
                      f"      - targets: ['127.0.0.1:{mport}']\n")
    return subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{pport}", "--log.level=warn"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))


@pytest.fixture
def stack(tmp_path):
    """A fake RAPL tree 100 J short of its wrap, a monitor polling it every
    0.2 s with its exporter, and Prometheus scraping it every second."""
    root = tmp_path / "tree"
    start = RANGE_UJ - 100_000_000
    make_tree(str(root), start)
    mport, pport = free_port(), free_port()
    monitor = subprocess.Popen(
        [WATTPRINT, "monitor", "--sysfs-root", str(root / "sys"), "--no-cloud-metadata", "--country", "FRA",
         "--interval", "0.2", "--no-save", "--quiet", "--prometheus", f"127.0.0.1:{mport}"],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    prom = start_prometheus(tmp_path, mport, pport)
    try:
        wait_port(mport, "wattprint monitor", monitor)
        wait_port(pport, "prometheus", prom)
        yield {"root": str(root), "start": start, "mport": mport, "pport": pport, "monitor": monitor}
    finally:
        prom.terminate()
        monitor.terminate()
        assert prom.wait(timeout=20) is not None
        assert monitor.wait(timeout=20) == 0, monitor.stderr.read()


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(what)


def test_prometheus_counts_the_exact_joules_across_a_wrap(stack):
    pport = stack["pport"]
    pkg = 'wattprint_energy_joules_total{device="package-0"}'
    wait_for(lambda: value(pport, pkg) is not None, 30, "Prometheus never scraped the exporter")
    # 40 J steps, half a second apart (under the 1000 W ceiling of 0.2 s
    # polls); the third crosses the counter's wrap at 8000 J.
    steps_uj = [40_000_000, 40_000_000, 40_000_000, 12_345_678]
    at = stack["start"]
    for step in steps_uj:
        at += step
        write_counter(stack["root"], PKG, at)
        write_counter(stack["root"], DRAM, stack["start"] + (at - stack["start"]) // 10)
        time.sleep(0.6)
    moved_j = sum(steps_uj) / 1e6
    dram_j = (sum(steps_uj) // 10) / 1e6
    wait_for(lambda: value(pport, pkg) == pytest.approx(moved_j, abs=1e-9), 30,
             f"the scraped counter never reached {moved_j} J")
    time.sleep(1.5)  # one more scrape of the final value
    last = value(pport, f"timestamp({pkg})")
    # At the last sample's own time, with the first sample (0 J) inside the
    # range, increase() has nothing to extrapolate: it is the exact rise.
    assert value(pport, f"increase({pkg}[10m])", at=last) == pytest.approx(moved_j, abs=1e-9)
    assert value(pport, f"resets({pkg}[10m])", at=last) == 0  # the hardware wrap is no counter reset
    dram = 'wattprint_energy_joules_total{device="dram-0"}'
    assert value(pport, f"increase({dram}[10m])", at=last) == pytest.approx(dram_j, abs=1e-9)
    # The same joules in CO2e at France's average intensity (31 g/kWh in 2025), and the gauge saying so.
    grams = value(pport, 'wattprint_emissions_grams_total{basis="average"}')
    g_per_kwh = value(pport, 'wattprint_grid_intensity_grams_per_kilowatt_hour{basis="average"}')
    assert g_per_kwh == 31
    assert grams == pytest.approx((moved_j + dram_j) / 3.6e6 * g_per_kwh, rel=1e-9)
    assert value(pport, 'wattprint_source_up{source="powercap"}') == 1
    assert value(pport, "sum(wattprint_build_info)") == 1


def test_a_scrape_passes_promtool_and_never_reads_the_hardware(stack):
    url = f"http://127.0.0.1:{stack['mport']}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read()
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert b"wattprint_energy_joules_total{" in text and b'counted="true"' in text
    # Scrapes serve the last poll: fifty of them do not add a poll.
    def updates():
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        return next(float(l.split()[-1]) for l in body.splitlines() if l.startswith("wattprint_exporter_updates_total"))
    before = updates()
    t0 = time.monotonic()
    for _ in range(50):
        updates()
    elapsed = time.monotonic() - t0
    after = updates()
    polls_meanwhile = (elapsed + 0.5) / 0.2 + 2
    assert after - before <= polls_meanwhile  # polls on their schedule, not one per scrape


def test_a_taken_address_is_a_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([WATTPRINT, "monitor", "--no-cloud-metadata", "--no-save", "--prometheus",
                            f"127.0.0.1:{port}"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("wattprint: error: cannot serve Prometheus metrics on")
    r = subprocess.run([WATTPRINT, "monitor", "--prometheus", "nowhere"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=30)
    assert r.returncode == 2 and "HOST:PORT" in r.stderr


def make_cgroup_host(root):
    """A four-CPU, 8 GB machine's /proc and a cgroup v2 root under root."""
    os.makedirs(os.path.join(root, "proc"), exist_ok=True)
    with open(os.path.join(root, "proc/stat"), "w") as f:
        f.write("cpu  100 0 100 800 0 0 0 0 0 0\n" + "".join(f"cpu{i} 25 0 25 200 0 0 0 0 0 0\n" for i in range(4)))
    with open(os.path.join(root, "proc/meminfo"), "w") as f:
        f.write("MemTotal:        8000000 kB\nMemFree:         4000000 kB\nMemAvailable:    6000000 kB\n")
    os.makedirs(os.path.join(root, "sys/fs/cgroup"), exist_ok=True)
    with open(os.path.join(root, "sys/fs/cgroup/cgroup.controllers"), "w") as f:
        f.write("cpu memory\n")


def write_cgroup(root, path, usage_usec, memory):
    """Rewrites a cgroup's files in place, as the kernel's cgroupfs changes
    them: the monitor keeps them open and re-reads them (fixed widths, so
    one pwrite replaces the whole text)."""
    d = os.path.join(root, "sys/fs/cgroup", path)
    os.makedirs(d, exist_ok=True)
    for name, text in (("cpu.stat", f"usage_usec {usage_usec:012d}\nuser_usec 0\nsystem_usec 0\n"),
                       ("memory.current", f"{memory:012d}\n")):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, text.encode(), 0)
        finally:
            os.close(fd)


def test_energy_per_cgroup_adds_up_to_the_machine(tmp_path):
    """monitor --attribute cgroups over a fixture tree: two services, one of
    which appears midway; the record's cgroups and the unattributed rest add
    up to the machine's counted energy, and Prometheus gets their series."""
    root = str(tmp_path / "tree")
    make_tree(root, 1_000_000_000)
    make_cgroup_host(root)
    write_cgroup(root, "system.slice/a.service", 0, 100_000_000)
    write_cgroup(root, "user.slice/ignored", 0, 0)
    port = free_port()
    record = tmp_path / "monitor.json"
    monitor = subprocess.Popen(
        [WATTPRINT, "monitor", "--sysfs-root", os.path.join(root, "sys"), "--procfs-root", os.path.join(root, "proc"),
         "--no-cloud-metadata", "--country", "FRA", "--interval", "0.2", "--no-save", "--quiet",
         "--attribute", "cgroups", "--cgroup-parents", "system.slice", "--json", str(record),
         "--prometheus", f"127.0.0.1:{port}"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, "wattprint monitor", monitor)
        pkg = 1_000_000_000
        for i in range(1, 9):
            pkg += 20_000_000
            write_counter(root, PKG, pkg)
            write_counter(root, DRAM, 1_000_000_000 + i * 2_000_000)
            write_cgroup(root, "system.slice/a.service", i * 200_000, 100_000_000)  # a CPU for 1/4 of the time
            if i >= 4:
                write_cgroup(root, "system.slice/b.service", (i - 3) * 100_000, 0)
            time.sleep(0.25)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        monitor.send_signal(2)
        assert monitor.wait(timeout=20) == 0, monitor.stderr.read()
    assert 'wattprint_cgroup_energy_joules_total{cgroup="system.slice/a.service",kind="cpu"}' in body
    assert "user.slice" not in body
    out = json.loads(record.read_text())
    c = out["cgroups"]
    items = {i["cgroup"]: i for i in c["items"]}
    assert set(items) == {"system.slice/a.service", "system.slice/b.service"}
    assert items["system.slice/a.service"]["cpu_j"] > 0 and items["system.slice/a.service"]["dram_j"] > 0
    assert items["system.slice/b.service"]["cpu_j"] > 0 and items["system.slice/b.service"]["present"]
    charged = sum(i["energy_j"] for i in c["items"]) + sum(c["unattributed"].values())
    assert charged == pytest.approx(out["energy"]["machine"]["j"], rel=1e-9)
    assert charged == pytest.approx(160 + 16, rel=1e-6)  # every joule the tree moved


def test_gpu_energy_goes_to_the_cgroups_of_its_processes(tmp_path):
    """A fake NVML GPU used by a process of a.service at 50 % SM and one of
    b.service at 25 %: the record gives each its share of the GPU's
    energy, the idle rest stays unattributed, and Prometheus gets the
    kind="gpu" series."""
    root = str(tmp_path / "tree")
    make_tree(root, 1_000_000_000)
    make_cgroup_host(root)
    for pid, cgroup in ((4001, "system.slice/a.service/worker"), (4002, "system.slice/b.service"),
                        (4003, "user.slice/ignored")):
        os.makedirs(os.path.join(root, f"proc/{pid}"))
        with open(os.path.join(root, f"proc/{pid}/cgroup"), "w") as f:
            f.write(f"0::/{cgroup}\n")
    write_cgroup(root, "system.slice/a.service", 0, 0)
    write_cgroup(root, "system.slice/b.service", 0, 0)
    scenario = tmp_path / "nvml.txt"
    scenario.write_text("count 1\ngpu0.name Fake H100\ngpu0.uuid GPU-1\ngpu0.energy_mj 5000000\n"
                        "gpu0.mem_total 80000000000\ngpu0.samples 4001:50,4002:25,4003:0\ngpu0.samples_ts 1000\n")
    env = dict(os.environ, FAKE_NVML_SCENARIO=str(scenario))
    port = free_port()
    record = tmp_path / "monitor.json"
    monitor = subprocess.Popen(
        [WATTPRINT, "monitor", "--sysfs-root", os.path.join(root, "sys"), "--procfs-root", os.path.join(root, "proc"),
         "--nvml-library", os.environ["WP_TEST_FAKE_NVML"], "--no-cloud-metadata", "--country", "FRA",
         "--interval", "0.2", "--no-save", "--quiet", "--attribute", "cgroups", "--cgroup-parents", "system.slice",
         "--json", str(record), "--prometheus", f"127.0.0.1:{port}"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, "wattprint monitor", monitor)
        for i in range(1, 7):
            with open(scenario, "a") as f:  # 200 J a step, and fresh samples
                f.write(f"gpu0.energy_mj {5_000_000 + i * 200_000}\ngpu0.samples_ts {1000 + i * 1000}\n")
            time.sleep(0.3)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        monitor.send_signal(2)
        assert monitor.wait(timeout=20) == 0, monitor.stderr.read()
    assert 'wattprint_cgroup_energy_joules_total{cgroup="system.slice/a.service",kind="gpu"}' in body
    out = json.loads(record.read_text())
    c = out["cgroups"]
    items = {i["cgroup"]: i for i in c["items"]}
    assert items["system.slice/a.service"]["gpu_j"] == pytest.approx(0.5 * 1200, rel=1e-6)
    assert items["system.slice/b.service"]["gpu_j"] == pytest.approx(0.25 * 1200, rel=1e-6)
    assert c["unattributed"]["gpu_j"] == pytest.approx(0.25 * 1200, rel=1e-6)  # idle, and user.slice's 0 %
    charged = sum(i["energy_j"] for i in c["items"]) + sum(c["unattributed"].values())
    assert charged == pytest.approx(out["energy"]["machine"]["j"], rel=1e-9)
