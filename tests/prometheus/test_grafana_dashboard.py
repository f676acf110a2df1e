"""docs/grafana/wattprint.json against a real Prometheus (Debian's 2.42) on
127.0.0.1: the dashboard names only metrics the exporter serves, and every
query of every panel, with Grafana's variables filled in, evaluates on the
series of a `wattprint monitor --attribute cgroups` over a fake tree (RAPL
package and DRAM, a fake NVML GPU, two services whose cpu.stat moves)."""

import json
import math
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from test_prometheus import (DRAM, PKG, WATTPRINT, free_port, make_cgroup_host, make_tree, query,
                             start_prometheus, wait_port, write_cgroup, write_counter)

DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "grafana", "wattprint.json")

# What Grafana puts in place of its variables: a 1 s scrape interval gives
# $__rate_interval = 4 × 1 s; the range is the last 30 s; every instance.
GRAFANA_VARIABLES = (("${__rate_interval}", "4s"), ("$__rate_interval", "4s"), ("${__range}", "30s"),
                     ("$__range", "30s"), ("${__interval}", "1s"), ("$__interval", "1s"),
                     ("${instance}", ".*"), ("$instance", ".*"))

# PromQL's functions and aggregations (identifiers followed by "(") and
# keywords; any other bare identifier is a metric name.
PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes", "clamp",
    "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "day_of_month", "day_of_week",
    "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "group", "histogram_quantile",
    "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time",
    "ln", "log10", "log2", "max", "max_over_time", "min", "min_over_time", "minute", "month",
    "predict_linear", "present_over_time", "quantile", "quantile_over_time", "rate", "resets", "round",
    "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev", "stddev_over_time", "stdvar", "stdvar_over_time",
    "sum", "sum_over_time", "time", "timestamp", "topk", "vector", "year",
}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
                   "group_right", "inf", "nan"}

# Panels whose every query must give a finite value above 0 in this fixture.
POSITIVE_PANELS = ("Machine power", "Energy over the range", "Power per cgroup (top 10)",
                   "Energy per cgroup over the range")


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def expressions(dashboard):
    """(panel title, refId, expr) of every target."""
    out = []
    for p in dashboard["panels"]:
        for t in p["targets"]:
            out.append((p["title"], t["refId"], t["expr"]))
    return out


def substitute(expr):
    for name, value in GRAFANA_VARIABLES:
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a Grafana variable left unreplaced in {expr}"
    return expr


def evaluate(port, title, ref, expr, at):
    """query(), with Prometheus's own message when it refuses the expression."""
    try:
        return query(port, expr, at)  # asserts status "success"
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{title} {ref}: Prometheus refused {expr}: {e.read().decode()}") from None


def metric_names(expr):
    """The bare identifiers of expr that PromQL reads as metric names."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                     # string literals
    e = re.sub(r"\{[^}]*\}", " ", e)                                    # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                   # range durations
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    e = re.sub(r"(?<![\w.])\d+(\.\d+)?([eE][+-]?\d+)?([smhdwy]|ms)?\b", " ", e)  # numbers, durations
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word = m.group(0)
        called = e[m.end():].lstrip().startswith("(")
        if called:
            assert word in PROMQL_FUNCTIONS, f"unknown PromQL function {word} in {expr}"
        elif word.lower() not in PROMQL_KEYWORDS:
            names.add(word)
    return names


def test_the_metric_parser_sees_every_selector():
    assert metric_names('sum by (kind) (rate(wattprint_a_total{kind="x y",b=~"$i"}[4s])) / 3.6e6') == {
        "wattprint_a_total"}
    assert metric_names("wattprint_b / on (instance) group_left (version) up") == {"wattprint_b", "up"}
    assert metric_names("topk(10, node_x offset 5m)") == {"node_x"}


def test_the_dashboard_is_importable_and_names_its_variables():
    d = load_dashboard()
    assert d["uid"] == "wattprint-machine" and d["title"] == "wattprint: energy and CO2e"
    assert d["schemaVersion"] >= 36 and d.get("id") is None and d["panels"]
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    inst = variables["instance"]
    q = inst["query"] if isinstance(inst["query"], str) else inst["query"]["query"]
    assert inst["type"] == "query" and q == "label_values(wattprint_build_info, instance)"
    assert inst["datasource"]["uid"] == "${datasource}"
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        assert p["targets"], f"panel {p['title']} has no query"
        assert p.get("description"), f"panel {p['title']} has no description"
        assert p["datasource"]["uid"] == "${datasource}"
        for t in p["targets"]:
            assert t["expr"].strip() and t["datasource"]["uid"] == "${datasource}", p["title"]
            assert 'instance=~"$instance"' in t["expr"], f"{p['title']} ignores the instance variable"
    units = {p["title"]: p["fieldConfig"]["defaults"].get("unit") for p in d["panels"]}
    assert units["Machine power"] == "watt"
    assert units["Energy over the range"] == "kwatth"
    assert units["CO2e over the range"] == "masskg"
    assert set(POSITIVE_PANELS) <= set(units)
    # Sums of energy count the CPU once: every joule selector keeps to counted="true".
    for title, _, expr in expressions(d):
        for sel in re.findall(r"wattprint_energy_joules_total(\{[^}]*\})?", expr):
            assert 'counted="true"' in sel, f"{title}: {expr} adds platform channels to the CPU"


@pytest.fixture
def cgroup_stack(tmp_path):
    """A monitor with --attribute cgroups over a fake tree, polling every
    0.2 s, and Prometheus scraping it every second."""
    root = str(tmp_path / "tree")
    make_tree(root, 1_000_000_000)
    make_cgroup_host(root)
    os.makedirs(os.path.join(root, "proc/4001"))
    with open(os.path.join(root, "proc/4001/cgroup"), "w") as f:
        f.write("0::/system.slice/a.service\n")
    write_cgroup(root, "system.slice/a.service", 0, 100_000_000)
    write_cgroup(root, "system.slice/b.service", 0, 0)
    scenario = tmp_path / "nvml.txt"
    scenario.write_text("count 1\ngpu0.name Fake H100\ngpu0.uuid GPU-1\ngpu0.energy_mj 5000000\n"
                        "gpu0.mem_total 80000000000\ngpu0.samples 4001:50\ngpu0.samples_ts 1000\n")
    mport, pport = free_port(), free_port()
    monitor = subprocess.Popen(
        [WATTPRINT, "monitor", "--sysfs-root", os.path.join(root, "sys"), "--procfs-root", os.path.join(root, "proc"),
         "--nvml-library", os.environ["WP_TEST_FAKE_NVML"], "--no-cloud-metadata", "--country", "FRA",
         "--interval", "0.2", "--no-save", "--quiet", "--attribute", "cgroups", "--cgroup-parents", "system.slice",
         "--prometheus", f"127.0.0.1:{mport}"],
        cwd=tmp_path, env=dict(os.environ, FAKE_NVML_SCENARIO=str(scenario)), stderr=subprocess.PIPE, text=True)
    prom = start_prometheus(tmp_path, mport, pport)
    try:
        wait_port(mport, "wattprint monitor", monitor)
        wait_port(pport, "prometheus", prom)
        yield {"root": root, "scenario": scenario, "mport": mport, "pport": pport}
    finally:
        prom.terminate()
        monitor.terminate()
        assert prom.wait(timeout=20) is not None
        assert monitor.wait(timeout=20) == 0, monitor.stderr.read()


def test_every_dashboard_query_works_against_prometheus(cgroup_stack):
    root, pport = cgroup_stack["root"], cgroup_stack["pport"]
    deadline = time.monotonic() + 30
    while not query(pport, "wattprint_build_info"):
        assert time.monotonic() < deadline, "Prometheus never scraped the exporter"
        time.sleep(0.25)
    # 6 s of load: 100 W of package, 10 W of DRAM, 400 W of GPU; a.service
    # uses a quarter of a CPU and half the GPU, b.service an eighth of a CPU.
    pkg, step = 1_000_000_000, 0.25
    for i in range(1, 25):
        pkg += 25_000_000
        write_counter(root, PKG, pkg)
        write_counter(root, DRAM, 1_000_000_000 + i * 2_500_000)
        write_cgroup(root, "system.slice/a.service", int(i * step * 250_000), 100_000_000)
        write_cgroup(root, "system.slice/b.service", int(i * step * 125_000), 0)
        with open(cgroup_stack["scenario"], "a") as f:
            f.write(f"gpu0.energy_mj {5_000_000 + i * 100_000}\ngpu0.samples_ts {1000 + i * 1000}\n")
        time.sleep(step)
    moved = time.time()
    time.sleep(1.5)  # the last scrapes are in
    # Queries are evaluated at the last scrape while the counters moved: the
    # rate windows hold load only, and increase() has nothing to extrapolate.
    at = float(query(pport, "timestamp(wattprint_build_info)", moved)[0]["value"][1])

    # Every metric the dashboard names is one the exporter serves (a family
    # shows up once it has a series: the cgroups' after their first poll).
    body = urllib.request.urlopen(f"http://127.0.0.1:{cgroup_stack['mport']}/metrics", timeout=10).read().decode()
    served = {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")}
    exprs = expressions(load_dashboard())
    for title, ref, expr in exprs:
        names = metric_names(expr)
        assert names, f"{title} {ref}: no metric in {expr}"
        for name in names:
            assert name.startswith("wattprint_"), f"{title} {ref}: {name} is not a wattprint metric"
            assert name in served, f"{title} {ref}: the exporter serves no {name}"

    # The instance variable's label_values() is Grafana's; its PromQL twin.
    instances = query(pport, "group by (instance) (wattprint_build_info)", at)
    assert [r["metric"]["instance"] for r in instances] == [f"127.0.0.1:{cgroup_stack['mport']}"]

    results = {}
    for title, ref, expr in exprs:
        result = evaluate(pport, title, ref, substitute(expr), at)
        assert result, f"{title} {ref}: no series for {substitute(expr)}"
        results[title, ref] = {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in result}
    for title in POSITIVE_PANELS:
        refs = [values for (t, _), values in results.items() if t == title]
        assert refs, f"no panel {title}"
        for values in refs:
            assert all(math.isfinite(v) for v in values.values()) and max(values.values()) > 0, (title, values)

    # The machine's power is the fixture's 510 W, give or take the windows' edges.
    (power,) = results["Machine power", "A"].values()
    assert 300 < power < 800, power
    cgroups = {json.loads(m)["cgroup"] for m in results["Power per cgroup (top 10)", "A"]}
    assert cgroups == {"system.slice/a.service", "system.slice/b.service"}
    # The cgroups' bars and the unattributed rest add up to the machine's energy.
    (machine_kwh,) = results["Energy over the range", "A"].values()
    charged_kwh = (sum(results["Energy per cgroup over the range", "A"].values()) +
                   sum(results["Energy per cgroup over the range", "B"].values()))
    assert charged_kwh == pytest.approx(machine_kwh, rel=1e-6)
    # No more than the 24 steps of 127.5 J moved, most of them by the last scrape of the load.
    assert 12 * 127.5 < machine_kwh * 3.6e6 <= 24 * 127.5 + 1e-6
