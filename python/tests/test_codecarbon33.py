"""CodeCarbon 3.3's documented API, with only the import changed: every
output method (a custom handler, the logger output, the API protocol
against a server on 127.0.0.1, a real pushgateway), Path arguments, the
task CSV, EmissionsData as a dataclass, CSV rotation, logging on the
"codecarbon" logger, get_detected_hardware, and pandas reading a
CodeCarbon-written emissions.csv next to a wattprint-written one."""

import dataclasses
import http.server
import json
import logging
import os
import pathlib
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import kwh, read_rows, zone_latest_g_per_kwh
from wattprint import EmissionsData, EmissionsTracker, OfflineEmissionsTracker, OutputMethod, track_emissions
from wattprint.output import BaseOutput, LoggerOutput

DATA = os.path.join(os.path.dirname(__file__), "data")


def test_output_method_enum_and_output_methods(env):
    assert OutputMethod.CSV == "csv" and OutputMethod("prometheus") is OutputMethod.PROMETHEUS
    assert [m.value for m in OutputMethod] == ["csv", "api", "logger", "prometheus", "logfire", "boamps"]
    t = EmissionsTracker(output_methods=[OutputMethod.CSV])
    with t:
        env.add(3600000)
    assert len(read_rows("emissions.csv")) == 1
    # A comma string, as from .codecarbon.config; no CSV: no file.
    os.remove("emissions.csv")
    with EmissionsTracker(output_methods="logger"):
        env.add(3600000)
    assert not os.path.exists("emissions.csv")


def test_path_arguments(env):
    out = pathlib.Path(env.work) / "runs"
    t = EmissionsTracker(output_dir=out, output_file=pathlib.Path("e.csv"))
    with t:
        env.add(3600000)
    assert len(read_rows(out / "e.csv")) == 1


class Recorder(BaseOutput):
    def __init__(self):
        self.calls = []

    def out(self, total, delta):
        self.calls.append(("out", total, delta))

    def live_out(self, total, delta):
        self.calls.append(("live_out", total, delta))

    def task_out(self, data, experiment_name):
        self.calls.append(("task_out", data, experiment_name))

    def exit(self):
        self.calls.append(("exit",))


def test_custom_handler_gets_codecarbons_calls(env):
    rec = Recorder()
    t = EmissionsTracker(output_handlers=[rec], measure_power_secs=0.1, api_call_interval=2,
                         experiment_name="exp")
    t.start()
    env.add(3600000)
    deadline = time.monotonic() + 10
    while not any(c[0] == "live_out" for c in rec.calls) and time.monotonic() < deadline:
        time.sleep(0.05)
    t.start_task("step")
    env.add(7200000)
    t.stop_task()
    t.flush()
    t.stop()
    kinds = [c[0] for c in rec.calls]
    assert "live_out" in kinds
    # flush(): out, task_out; stop(): out, task_out, exit (live_out between).
    assert kinds[-3:] == ["out", "task_out", "exit"]
    assert kinds.count("out") == 2 and kinds.count("task_out") == 2 and kinds.count("exit") == 1
    outs = [c for c in rec.calls if c[0] in ("out", "live_out")]
    # The deltas add up to the total; the total is the run's.
    total = outs[-1][1]
    assert total.energy_consumed == pytest.approx(kwh(10800000), rel=1e-9)
    assert sum(c[2].energy_consumed for c in outs) == pytest.approx(total.energy_consumed, rel=1e-9)
    task_rows, name = rec.calls[-2][1], rec.calls[-2][2]
    assert name == "exp" and [r.task_name for r in task_rows] == ["step"]
    assert task_rows[0].energy_consumed == pytest.approx(kwh(7200000), rel=1e-9)


def test_a_failing_handler_is_logged_and_the_others_still_run(env, caplog):
    class Broken(BaseOutput):
        def out(self, total, delta):
            raise RuntimeError("disk on fire")

    rec = Recorder()
    with EmissionsTracker(output_handlers=[Broken(), rec]):
        env.add(3600000)
    assert "Broken.out() failed: disk on fire" in caplog.text
    assert [c[0] for c in rec.calls] == ["out", "exit"]
    assert len(read_rows("emissions.csv")) == 1


def test_logger_output_writes_one_json_line_of_the_totals(env):
    logger = logging.getLogger("my-emissions")
    logger.propagate = False
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with EmissionsTracker(save_to_logger=True, logging_logger=LoggerOutput(logger, logging.INFO)):
            env.add(3600000)
    finally:
        logger.removeHandler(handler)
    assert len(records) == 1
    payload = json.loads(records[0].getMessage())
    assert payload["energy_consumed"] == pytest.approx(kwh(3600000), rel=1e-9)
    assert list(payload) == [f.name for f in dataclasses.fields(EmissionsData)]


def test_emissions_data_is_a_dataclass(env):
    with OfflineEmissionsTracker(country_iso_code="FRA") as t:
        env.add(3600000, 360000)
    d = t.final_emissions_data
    assert dataclasses.is_dataclass(d)
    as_dict = dataclasses.asdict(d)
    assert as_dict["country_iso_code"] == "FRA" and as_dict == dict(d.values)
    assert json.loads(d.toJSON()) == as_dict
    assert d.region is None  # no region known, as CodeCarbon's
    # No GPU: measured zeros, so sums and means work.
    assert d.gpu_energy == 0.0 and d.gpu_power == 0.0 and d.gpu_utilization_percent == 0.0
    assert d.cpu_energy + d.gpu_energy + d.ram_energy == pytest.approx(d.energy_consumed, rel=1e-12)
    row = read_rows("emissions.csv")[0]
    assert (row["pue"], row["wue"], row["water_consumed"]) == ("1.0", "0.0", "0.0")


def test_wue_and_forced_intensity(env):
    with OfflineEmissionsTracker(country_iso_code="FRA", wue=1.8, force_carbon_intensity_g_co2e_kwh=100) as t:
        env.add(36000000)
    d = t.final_emissions_data
    assert d.wue == 1.8
    assert d.water_consumed == pytest.approx(1.8 * kwh(36000000), rel=1e-12)
    assert d.emissions == pytest.approx(kwh(36000000) * 100 / 1000, rel=1e-12)
    row = read_rows("emissions.csv")[0]
    assert float(row["water_consumed"]) == d.water_consumed and row["wue"] == "1.8"


def test_old_header_is_backed_up_and_emissions_csv_started_again(env, caplog):
    with open("emissions.csv", "w") as f:
        f.write("timestamp,project_name,duration,emissions\n2020-01-01T00:00:00,old,1,0.5\n")
    with open("emissions.csv.bak", "w") as f:
        f.write("an older backup\n")
    with EmissionsTracker():
        env.add(3600000)
    assert len(read_rows("emissions.csv")) == 1
    with open("emissions.csv_0.bak") as f:
        assert "old,1,0.5" in f.read()
    with open("emissions.csv.bak") as f:
        assert f.read() == "an older backup\n"  # never overwritten
    assert "renamed to" in caplog.text


def test_logs_go_to_the_codecarbon_logger_at_info(env):
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append
    cc = logging.getLogger("codecarbon")
    cc.addHandler(handler)
    try:
        with OfflineEmissionsTracker(country_iso_code="FRA"):
            env.add(3600000)
    finally:
        cc.removeHandler(handler)
    messages = [r.getMessage() for r in seen if r.levelno == logging.INFO]
    assert any(m.startswith("energy from: powercap") for m in messages)
    assert any(m.startswith("intensity: ") and "France" in m for m in messages)
    assert any(m.startswith("totals: ") for m in messages)
    assert len(seen) < 10  # a few lines, not 32
    # log_level applies as CodeCarbon's does.
    seen.clear()
    cc.addHandler(handler)
    try:
        with OfflineEmissionsTracker(country_iso_code="FRA", log_level="warning"):
            env.add(3600000)
    finally:
        cc.removeHandler(handler)
    assert not [r for r in seen if r.levelno < logging.WARNING]


def test_get_detected_hardware(env):
    hw = EmissionsTracker().get_detected_hardware()
    assert list(hw) == ["ram_total_size", "cpu_count", "cpu_physical_count", "cpu_model", "gpu_count",
                        "gpu_model", "gpu_ids"]
    assert hw["cpu_count"] >= 1 and hw["cpu_physical_count"] >= 1 and hw["ram_total_size"] > 0
    assert (hw["gpu_count"], hw["gpu_model"]) == (0, "")


class ApiServer(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ApiServer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": "run-42"}).encode())

    def log_message(self, *args):
        pass


def test_save_to_api_sends_every_delta_and_they_add_up(env):
    ApiServer.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        t = OfflineEmissionsTracker(country_iso_code="FRA", save_to_api=True, api_endpoint=url,
                                    api_key="cpt_token", measure_power_secs=0.1, api_call_interval=2)
        t.start()
        env.add(3600000)
        time.sleep(0.5)
        env.add(3600000)
        total = t.stop()  # the last delta is well under a second: still sent
    finally:
        server.shutdown()
    paths = [p for p, _, _ in ApiServer.requests]
    assert paths[0] == "/runs" and paths.count("/runs") == 1 and len(paths) >= 3
    assert all(h.get("x-api-token") == "cpt_token" for _, h, _ in ApiServer.requests)
    emissions = [b for p, _, b in ApiServer.requests if p == "/emissions"]
    assert all(b["run_id"] == "run-42" and isinstance(b["duration"], int) for b in emissions)
    assert sum(b["emissions_sum"] for b in emissions) == pytest.approx(total, rel=1e-9)
    assert sum(b["energy_consumed"] for b in emissions) == pytest.approx(kwh(7200000), rel=1e-9)
    assert sum(b["duration"] for b in emissions) == round(t.final_emissions_data.duration)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pushgateway(tmp_path):
    exe = shutil.which("prometheus-pushgateway")
    if exe is None:
        pytest.skip("prometheus-pushgateway is not installed (scripts/setup-deps.sh installs it)")
    port = free_port()
    proc = subprocess.Popen([exe, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/-/ready", timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the pushgateway did not start")
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def metrics(url):
    return urllib.request.urlopen(f"http://{url}/metrics", timeout=5).read().decode()


def test_save_to_prometheus_pushes_to_a_real_pushgateway(env, pushgateway):
    t = OfflineEmissionsTracker(country_iso_code="FRA", project_name="bert", experiment_name="ft",
                                save_to_prometheus=True, prometheus_url=pushgateway,
                                measure_power_secs=0.1, api_call_interval=1)
    t.start()
    env.add(36000000)

    def energy_line():
        return next((line for line in metrics(pushgateway).splitlines()
                     if line.startswith("codecarbon_energy_total{") and 'job="bert_ft"' in line), None)

    # Each measurement pushes (api_call_interval=1): wait for one after the work.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = energy_line()
        if line is not None and float(line.rsplit(" ", 1)[1]) > 0:
            break
        time.sleep(0.1)
    assert line is not None
    assert 'project_name="bert"' in line and 'country_iso_code="FRA"' in line
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(kwh(36000000), rel=1e-9)
    assert "codecarbon_cpu_energy{" in metrics(pushgateway)
    t.stop()
    assert 'job="bert_ft"' not in metrics(pushgateway)  # deleted at exit, as CodeCarbon does


def test_pandas_reads_both_tools_files_with_the_same_dtypes(env):
    pd = pytest.importorskip("pandas")
    with OfflineEmissionsTracker(country_iso_code="FRA", project_name="train"):
        env.add(36000000, 3600000)
    ours = pd.read_csv("emissions.csv")
    theirs = pd.read_csv(os.path.join(DATA, "codecarbon-3.3-emissions.csv"))
    assert list(ours.columns) == list(theirs.columns)
    differ = {c: (str(ours[c].dtype), str(theirs[c].dtype)) for c in ours.columns
              if ours[c].dtype != theirs[c].dtype}
    assert differ == {}
    both = pd.concat([theirs, ours], ignore_index=True)
    assert len(both) == 3
    assert both["energy_consumed"].dtype == "float64" and both["pue"].tolist() == [1.0, 1.0, 1.0]
    assert (both["cpu_energy"] + both["gpu_energy"] + both["ram_energy"]).notna().all()
    assert both.groupby("project_name")["emissions"].sum()["train"] > 0


def test_decorator_takes_codecarbons_parameters(env):
    @track_emissions(project_name="dec", output_methods=["csv"], offline=True, country_iso_code="CAN", wue=2.0)
    def work():
        env.add(3600000)
        return 1

    assert work() == 1
    row = read_rows("emissions.csv")[0]
    assert row["project_name"] == "dec" and row["wue"] == "2.0"
    assert float(row["emissions"]) == pytest.approx(kwh(3600000) * zone_latest_g_per_kwh("CA") / 1000, rel=1e-9)


FAKE_NVML = os.environ.get("WP_TEST_FAKE_NVML")


@pytest.mark.skipif(not FAKE_NVML, reason="needs the fake NVML library that ctest names")
def test_a_gpu_that_cannot_be_read_is_unknown_and_the_log_says_why(env, monkeypatch, caplog):
    scenario = os.path.join(env.work, "nvml-scenario")
    with open(scenario, "w") as f:
        f.write("count 1\ngpu0.name NVIDIA A100-SXM4-40GB\ngpu0.uuid GPU-a\n")  # no energy, no power
    monkeypatch.setenv("WATTPRINT_NVML_LIBRARY", FAKE_NVML)
    monkeypatch.setenv("FAKE_NVML_SCENARIO", scenario)
    with EmissionsTracker() as t:
        env.add(3600000)
    d = t.final_emissions_data
    assert d.gpu_energy is None and d.gpu_power is None
    assert "nvmlDeviceGetTotalEnergyConsumption: Not Supported" in caplog.text
    assert "that energy is unknown" in caplog.text
    assert read_rows("emissions.csv")[0]["gpu_energy"] == ""


def test_every_parameter_by_name(env):
    # Each of CodeCarbon 3.3's 35 parameters, given: the tracker measures.
    rec = Recorder()
    kwargs = dict(
        project_name="all", measure_power_secs=0.5, api_call_interval=-1, api_endpoint="http://127.0.0.1:1",
        api_key="k", output_dir=env.work, output_file="all.csv", output_methods=[OutputMethod.CSV],
        save_to_file=True, save_to_api=False, save_to_logger=False, logging_logger=None,
        save_to_prometheus=False, save_to_logfire=False, prometheus_url="127.0.0.1:1", output_handlers=[rec],
        gpu_ids=None, emissions_endpoint=None, experiment_id="e-1", experiment_name="exp",
        electricitymaps_api_token=None, co2_signal_api_token=None, tracking_mode="machine", log_level="error",
        on_csv_write="append", logger_preamble="p", force_cpu_power=None, force_ram_power=None, pue=1.2,
        wue=0.5, force_carbon_intensity_g_co2e_kwh=200, force_mode_cpu_load=False, allow_multiple_runs=True,
        rapl_include_dram=False, rapl_prefer_psys=False)
    with pytest.warns(DeprecationWarning):
        t = EmissionsTracker(**kwargs)
    with t:
        env.add(3600000)
    row = read_rows("all.csv")[0]
    assert (row["project_name"], row["experiment_id"], row["pue"], row["wue"]) == ("all", "e-1", "1.2", "0.5")
    assert float(row["energy_consumed"]) == pytest.approx(1.2 * kwh(3600000), rel=1e-9)
    assert float(row["emissions"]) == pytest.approx(1.2 * kwh(3600000) * 200 / 1000, rel=1e-9)
    assert [c[0] for c in rec.calls] == ["out", "exit"]  # api_call_interval=-1: no live_out


def test_deliberate_differences_are_pinned(env, caplog):
    # A stopped tracker starts again (CodeCarbon's only warns).
    t = EmissionsTracker()
    with t:
        env.add(3600000)
    with t:
        env.add(7200000)
    assert t.final_emissions_data.energy_consumed == pytest.approx(kwh(7200000), rel=1e-9)
    # A missing output_dir is created (CodeCarbon raises OSError).
    with EmissionsTracker(output_dir=os.path.join(env.work, "new", "dir")):
        env.add(3600000)
    assert len(read_rows(os.path.join(env.work, "new", "dir", "emissions.csv"))) == 1

    # offline=True without a country: an error and the world average
    # (CodeCarbon's decorator raises at call time).
    @track_emissions(offline=True)
    def work():
        env.add(3600000)
        return "ran"

    assert work() == "ran"
    assert "OfflineEmissionsTracker has no location" in caplog.text


def test_live_out_follows_codecarbons_count_of_measurements(env):
    # start() and stop() are measurements: with api_call_interval=2 and a
    # period longer than the run, live_out is called once, at stop().
    rec = Recorder()
    with EmissionsTracker(output_handlers=[rec], measure_power_secs=999, api_call_interval=2):
        env.add(3600000)
    assert [c[0] for c in rec.calls] == ["live_out", "out", "exit"]


def test_file_output_by_hand(env):
    from wattprint.output import FileOutput

    with pytest.raises(OSError):
        FileOutput("e.csv", os.path.join(env.work, "missing"))
    handler = FileOutput("mine.csv", env.work)
    with EmissionsTracker(output_handlers=[handler], save_to_file=False):
        env.add(3600000)
    rows = read_rows("mine.csv")
    assert len(rows) == 1 and float(rows[0]["energy_consumed"]) == pytest.approx(kwh(3600000), rel=1e-9)
    assert not os.path.exists("emissions.csv")


def test_a_second_start_task_is_ignored_as_codecarbon(env, caplog):
    t = EmissionsTracker()
    t.start_task("outer")
    env.add(3600000)
    t.start_task("inner")  # CodeCarbon: "A task is already under measure"
    env.add(3600000)
    outer = t.stop_task()
    t.stop()
    assert list(t._tasks) == ["outer"]
    assert outer.cpu_energy == pytest.approx(kwh(7200000), rel=1e-12)
    assert any("already under measure" in r.getMessage() for r in caplog.records)


def test_task_emissions_tracker_and_track_task_emissions(env):
    from wattprint import TaskEmissionsTracker, track_task_emissions

    t = EmissionsTracker(experiment_name="exp")
    t.start()
    with TaskEmissionsTracker("grid search", tracker=t) as task:
        assert task.tracker is t and not task.is_default_tracker
        env.add(3600000)

    @track_task_emissions(tracker=t, task_name="fit")
    def fit(x):
        env.add(7200000)
        return x * 2

    assert fit(21) == 42
    with pytest.raises(RuntimeError):
        with TaskEmissionsTracker("fails", tracker=t):
            env.add(1800000)
            raise RuntimeError("boom")
    t.stop()
    tasks = t._tasks
    assert list(tasks) == ["grid search", "fit", "fails"]
    assert tasks["grid search"].emissions_data.cpu_energy == pytest.approx(kwh(3600000), rel=1e-12)
    assert tasks["fit"].emissions_data.cpu_energy == pytest.approx(kwh(7200000), rel=1e-12)
    assert tasks["fails"].emissions_data.cpu_energy == pytest.approx(kwh(1800000), rel=1e-12)
    assert not any(task.is_active for task in tasks.values())
    rows = read_rows(os.path.join(env.work, f"emissions_exp_{t.run_id}.csv"))
    assert [r["task_name"] for r in rows] == ["grid search", "fit", "fails"]


def test_task_helpers_without_a_tracker_make_and_stop_their_own(env):
    from wattprint import TaskEmissionsTracker, track_task_emissions

    with TaskEmissionsTracker("alone") as task:
        assert task.is_default_tracker
        env.add(3600000)
    assert task.tracker.final_emissions_data.cpu_energy == pytest.approx(kwh(3600000), rel=1e-12)

    @track_task_emissions
    def step():
        env.add(3600000)

    step()
    rows = read_rows(os.path.join(env.work, "emissions.csv"))
    assert len(rows) == 2  # each default tracker wrote its row
    names = [r["task_name"] for r in read_rows(os.path.join(env.work, f"emissions_base_{task.tracker.run_id}.csv"))]
    assert names == ["alone"]
