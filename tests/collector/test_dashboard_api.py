"""The answers the dashboard is drawn from, on a real `wattprint serve` over
SQLite: who a token is, public projects, the runs table sorted, filtered and
paged by the server and exported as CSV, GPU hours and everyday equivalents,
"had this run elsewhere" against the grid database, cluster jobs seen by an
organisation, and the page itself with its Content-Security-Policy."""

import csv
import io
import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from test_collector import WATTPRINT, Collector

UPLOT = os.path.join(os.path.dirname(__file__), "..", "..", "web", "node_modules", "uplot", "dist", "uPlot.esm.js")


def admin(c, *args):
    return json.loads(subprocess.run([WATTPRINT, "admin", "--db", c.db, *args], check=True, capture_output=True,
                                     text=True).stdout)


def record(experiment_id, *, start, kwh, kg, duration=60.0, host="node-a", gpus=0, cpu_method="measured_counter",
           provider=None, region=None, job=None, zone="FR", g_per_kwh=31.0):
    """A wattprint JSON record with the fields the collector reads."""
    return {
        "metadata": {"run_id": str(uuid.uuid4()), "experiment_id": experiment_id, "start": start, "host": host,
                     "gpu_count": gpus, "cloud_provider": provider, "cloud_region": region, "cluster_job": job},
        "duration_s": duration,
        "emissions": {"scope": "machine", "kg": kg, "machine": {"energy": {"kwh": kwh}, "kg": kg}},
        "kinds": {"cpu": {"machine": {"kwh": kwh}, "method": cpu_method},
                  "gpu": {"machine": {"kwh": 0}, "method": "measured_power" if gpus else "none"},
                  "dram": {"machine": {"kwh": 0}, "method": "none"}},
        "intensity": {"g_per_kwh": g_per_kwh, "source": "test source", "basis": "average", "year": 2025,
                      "zone": zone, "country_name": "France"},
    }


def get_text(c, path, token):
    req = urllib.request.Request(c.base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers, r.read().decode()


@pytest.fixture
def seeded(tmp_path):
    c = Collector(tmp_path)
    token = c.project["token"]
    runs = []
    for i in range(30):
        r = record(c.project["experiment_id"], start=f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                   kwh=0.5 + (i * 7) % 30, kg=0.01 * ((i * 13) % 30), duration=100.0 + i,
                   host=("=evil" if i == 0 else f"node-{i % 3}"), gpus=i % 3,
                   cpu_method="estimated" if i % 4 == 0 else "measured_counter")
        status, out = c.request("POST", "/api/v1/runs", r, token=token, header="bearer")
        assert status == 201, out
        runs.append(r)
    yield c, runs
    c.stop()


def test_whoami_and_public_projects(tmp_path):
    c = Collector(tmp_path)
    try:
        status, me = c.request("GET", "/api/v1/whoami", token=c.project["token"], header="bearer")
        assert status == 200 and me["kind"] == "project" and me["scope_id"] == c.project["project_id"]
        assert me["organization_id"] == c.project["organization_id"] and me["read"] and me["write"]
        assert c.request("GET", "/api/v1/whoami", token="wpt_" + "1" * 64, header="bearer") == (
            401, {"error": "unknown token"})
        assert c.request("GET", "/api/v1/whoami")[0] == 401
        assert c.request("GET", "/api/v1/public/projects") == (200, [])
        pub = admin(c, "create-project", "Acme Lab", "open-data", "--public")
        status, listed = c.request("GET", "/api/v1/public/projects")
        assert status == 200 and [p["id"] for p in listed] == [pub["project_id"]]
        assert listed[0]["organization_name"] == "Acme Lab"
        status, view = c.request("GET", f"/api/v1/projects/{pub['project_id']}")
        assert status == 200 and view["public"] and view["last_run"] is None and view["hosted"] is None
        assert c.request("GET", f"/api/v1/projects/{c.project['project_id']}")[0] == 401
    finally:
        c.stop()


def test_runs_are_sorted_filtered_and_paged_by_the_server(seeded):
    c, runs = seeded
    token, pid = c.project["token"], c.project["project_id"]
    seen = []
    for offset in (0, 12, 24):
        status, page = c.request("GET", f"/api/v1/projects/{pid}/runs?sort=emissions&order=asc&limit=12"
                                 f"&offset={offset}", token=token)
        assert status == 200 and page["total"] == 30 and page["sort"] == "emissions" and page["order"] == "asc"
        seen += page["runs"]
    assert len({r["id"] for r in seen}) == 30
    kg = [r["figures"]["emissions_kg"] for r in seen]
    assert kg == sorted(kg)
    status, longest = c.request("GET", f"/api/v1/projects/{pid}/runs?sort=duration&limit=1", token=token)
    assert longest["runs"][0]["figures"]["duration_s"] == max(r["duration_s"] for r in runs)
    status, filtered = c.request("GET", f"/api/v1/projects/{pid}/runs?q=NODE-1", token=token)
    assert filtered["total"] == sum(1 for r in runs if r["metadata"]["host"] == "node-1")
    first = filtered["runs"][0]
    assert first["experiment_name"] == "default" and first["host"] == "node-1"
    assert first["methods"]["cpu"] in ("measured_counter", "estimated") and first["zone"] == "FR"
    assert first["intensity_year"] == 2025
    for bad in ("sort=cost", "order=up", "limit=0", "limit=1001", "q=" + "x" * 201, "experiment_id=nope"):
        status, out = c.request("GET", f"/api/v1/projects/{pid}/runs?{bad}", token=token)
        assert status in (404, 422) and out["error"], bad


def test_csv_export_holds_every_selected_run(seeded):
    c, runs = seeded
    token, pid = c.project["token"], c.project["project_id"]
    status, headers, text = get_text(c, f"/api/v1/projects/{pid}/runs.csv?sort=energy&order=desc", token)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    _, page = c.request("GET", f"/api/v1/projects/{pid}/runs?sort=energy&order=desc&limit=1000", token=token)
    assert [r["run_id"] for r in rows] == [r["id"] for r in page["runs"]]
    for row, run in zip(rows, page["runs"]):
        assert float(row["energy_kwh"]) == run["figures"]["energy_kwh"]
        assert float(row["emissions_kg"]) == run["figures"]["emissions_kg"]
        assert row["cpu_method"] == run["methods"]["cpu"]
    # A host that a spreadsheet would run as a formula is exported as text.
    assert "'=evil" in [r["host"] for r in rows]
    with pytest.raises(urllib.error.HTTPError) as e:
        get_text(c, f"/api/v1/projects/{pid}/runs.csv", "wpt_" + "2" * 64)
    assert e.value.code == 401


def test_totals_carry_gpu_hours_and_equivalents(seeded):
    c, runs = seeded
    status, t = c.request("GET", f"/api/v1/projects/{c.project['project_id']}/totals", token=c.project["token"])
    assert status == 200
    assert t["gpu_hours"] == pytest.approx(sum(r["duration_s"] * r["metadata"]["gpu_count"] for r in runs) / 3600)
    eq = {e["key"]: e for e in t["equivalents"]}
    kg, kwh = t["emissions_kg"], t["energy_kwh"]
    assert eq["household_week"]["amount"] == pytest.approx(kg / 160.58, rel=1e-4)
    assert eq["car_miles"]["amount"] == pytest.approx(kg / 0.4)
    assert eq["car_km"]["amount"] == pytest.approx(kg / 0.4 * 1.609344)
    assert eq["tv_days"]["amount"] == pytest.approx(kwh / (187 / 365))
    assert all(e["source"] and e["unit"] for e in eq.values())


def test_the_same_energy_in_the_cleanest_regions_and_zones(tmp_path):
    c = Collector(tmp_path)
    try:
        token = c.project["token"]
        grid = json.loads(subprocess.run([WATTPRINT, "intensity", "--list", "--json"], check=True,
                                         capture_output=True, text=True).stdout)
        zone_g = {z["zone"]: z["g_per_kwh"] for z in grid["zones"]}
        for provider, region in (("aws", "us-east-1"), (None, None)):
            r = record(c.project["experiment_id"], start="2026-11-02T10:00:00Z", kwh=12.5, kg=5.0,
                       provider=provider, region=region)
            assert c.request("POST", "/api/v1/runs", r, token=token, header="bearer")[0] == 201
            status, alt = c.request("GET", f"/api/v1/runs/{r['metadata']['run_id']}/alternatives?top=6",
                                    token=token)
            assert status == 200 and len(alt["cloud"]) == 6 and len(alt["zones"]) == 6
            wanted = sorted((g["g_per_kwh"] for g in grid["cloud_regions"]
                             if provider is None or g["provider"] == provider))[:6]
            assert [a["g_per_kwh"] for a in alt["cloud"]] == wanted
            for a in alt["cloud"]:
                listed = [g for g in grid["cloud_regions"] if g["provider"] == a["provider"] and
                          g["region"] == a["region"]]
                assert listed and listed[0]["g_per_kwh"] == a["g_per_kwh"]
                assert a["kg"] == pytest.approx(12.5 * a["g_per_kwh"] / 1000, rel=1e-12)
                assert a["kg_less"] == pytest.approx(5.0 - a["kg"], rel=1e-12)
            if provider:
                assert alt["provider"] == "aws" and {a["provider"] for a in alt["cloud"]} == {"aws"}
            else:
                assert alt["provider"] == ""
            assert [a["g_per_kwh"] for a in alt["zones"]] == sorted(zone_g.values())[:6]
            assert all(zone_g[a["zone"]] == a["g_per_kwh"] for a in alt["zones"])
        assert c.request("GET", f"/api/v1/runs/{r['metadata']['run_id']}/alternatives?top=0", token=token)[0] == 422
    finally:
        c.stop()


def test_a_job_is_read_by_its_organisation_and_the_org_pages_have_their_series(seeded):
    c, _ = seeded
    token, oid = c.project["token"], c.project["organization_id"]
    for node in ("n1", "n2"):
        r = record(c.project["experiment_id"], start="2026-11-20T00:00:00Z", kwh=2.0, kg=0.5, host=node,
                   job={"cluster": "hpc", "job_id": "77", "step": "0", "node": node, "user": "ada",
                        "account": "physics"})
        assert c.request("POST", "/api/v1/runs", r, token=token, header="bearer")[0] == 201
    org_token = admin(c, "create-token", "--kind", "organization", "--scope", oid)["token"]
    status, job = c.request("GET", "/api/v1/jobs/hpc/77", token=org_token)
    assert status == 200 and [n["node"] for n in job["nodes"]] == ["n1", "n2"]
    assert job["totals"]["energy_kwh"] == 4.0 and job["account"] == "physics"
    assert job["organization_id"] == oid and job["organization_name"] == "Acme Lab"
    status, run = c.request("GET", f"/api/v1/runs/{r['metadata']['run_id']}", token=org_token)
    assert status == 200 and run["project_id"] == c.project["project_id"] and run["project_name"] == "vision"
    assert run["organization_name"] == "Acme Lab" and run["experiment_name"] == "default"
    assert run["cluster_job"]["node"] == "n2" and run["record"]["metadata"]["host"] == "n2"
    assert c.request("GET", "/api/v1/jobs/hpc/77", token=token)[0] == 200  # its own project's token
    other = admin(c, "create-project", "Elsewhere", "x")
    assert c.request("GET", "/api/v1/jobs/hpc/77", token=other["token"])[0] == 404
    assert c.request("GET", "/api/v1/jobs/hpc/77")[0] == 401
    status, weekly = c.request("GET", f"/api/v1/organizations/{oid}/series?bucket=week", token=org_token)
    assert status == 200 and len(weekly["points"]) >= 4
    assert all((p["bucket_start_us"] // 1_000_000 - 4 * 86400) % (7 * 86400) == 0 for p in weekly["points"])
    status, totals = c.request("GET", f"/api/v1/organizations/{oid}/totals", token=org_token)
    assert sum(p["energy_kwh"] for p in weekly["points"]) == pytest.approx(totals["energy_kwh"])
    status, projects = c.request("GET", f"/api/v1/organizations/{oid}/projects", token=org_token)
    assert projects[0]["totals"]["runs"] == totals["runs"] == 32


def test_the_dashboard_is_served_with_a_strict_content_security_policy(tmp_path):
    c = Collector(tmp_path)
    try:
        with urllib.request.urlopen(c.base + "/", timeout=10) as r:
            page = r.read().decode()
            csp = r.headers["Content-Security-Policy"]
        assert "<script type=\"module\" src=\"/assets/app.js\"" in page
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in csp
        with urllib.request.urlopen(c.base + "/assets/uPlot.esm.js", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/javascript")
            assert r.read() == open(UPLOT, "rb").read()  # the npm file, byte for byte
            etag = r.headers["ETag"]
        # Unchanged: 304 with no body; a browser revalidates each file.
        req = urllib.request.Request(c.base + "/assets/uPlot.esm.js", headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 304 and e.value.read() == b""
        # A browser accepts Brotli; it gets gzip (httplib's Brotli is at its slowest quality).
        for accepted, sent in (("gzip, deflate, br", "gzip"), ("br", None), ("br;q=1, gzip;q=0.5", "gzip")):
            req = urllib.request.Request(c.base + "/assets/uPlot.esm.js", headers={"Accept-Encoding": accepted})
            with urllib.request.urlopen(req, timeout=10) as r:
                assert r.headers["Content-Encoding"] == sent, accepted
        for bad in ("/assets/nope.js", "/assets/..%2Fapi.js", "/assets/.hidden"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(c.base + bad, timeout=10)
            assert e.value.code == 404, bad
    finally:
        c.stop()
