"""EmissionsTracker against a fake RAPL tree: exact energies in the return
value, final_emissions_data and the CSV row; flush; tasks; the context
manager; exceptions in tracked code; outputs."""

import json
import os

import pytest

from conftest import WORLD_G_PER_KWH, kwh, read_rows, zone_latest_g_per_kwh
from wattprint import EmissionsData, EmissionsTracker, OfflineEmissionsTracker

REL = 1e-12  # counters are exact; only double rounding remains


def approx(v):
    return pytest.approx(v, rel=REL)


def test_start_stop_gives_exact_energy_everywhere(env):
    tracker = EmissionsTracker(project_name="exact")
    tracker.start()
    env.add(7200000, 900000)
    emissions = tracker.stop()

    energy = kwh(7200000 + 900000)
    assert emissions == approx(energy * WORLD_G_PER_KWH / 1000)
    data = tracker.final_emissions_data
    assert isinstance(data, EmissionsData)
    assert tracker.final_emissions == emissions
    assert data.cpu_energy == approx(kwh(7200000))
    assert data.ram_energy == approx(kwh(900000))
    assert data.energy_consumed == approx(energy)
    # No GPU on this machine: a measured 0, so sums and means work.
    assert data.gpu_energy == 0.0 and data.gpu_power == 0.0
    # Typed by the library, not parsed from CSV text.
    assert type(data.cpu_energy) is float and type(data.cpu_count) is int and type(data.on_cloud) is str
    assert data.cpu_energy + data.gpu_energy + data.ram_energy == approx(energy)
    assert data.project_name == "exact"
    assert data.tracking_mode == "machine"
    assert data.run_id == str(tracker.run_id)
    assert data.duration > 0

    rows = read_rows(os.path.join(env.work, "emissions.csv"))
    assert len(rows) == 1
    assert float(rows[0]["cpu_energy"]) == approx(kwh(7200000))
    assert float(rows[0]["ram_energy"]) == approx(kwh(900000))
    assert float(rows[0]["emissions"]) == emissions
    assert rows[0]["gpu_energy"] == "0.0"  # measured: no GPU
    assert rows[0]["run_id"] == str(tracker.run_id)
    assert rows[0]["python_version"].count(".") == 2
    assert data.values["energy_consumed"] == data.energy_consumed
    assert list(data.values) == list(rows[0])


def test_pue_country_and_output_location(env):
    out = os.path.join(env.work, "out")
    tracker = OfflineEmissionsTracker(country_iso_code="CAN", pue=1.5, output_dir=out,
                                      output_file="e.csv", region="quebec")
    tracker.start()
    env.add(3600000, 0)  # 1e-6 kWh
    emissions = tracker.stop()
    # region="quebec" picks the Quebec grid zone within Canada.
    assert emissions == approx(1e-6 * 1.5 * zone_latest_g_per_kwh("CA-QC") / 1000)
    row = read_rows(os.path.join(out, "e.csv"))[0]
    assert float(row["energy_consumed"]) == approx(1.5e-6)
    assert float(row["cpu_energy"]) == approx(1.5e-6)
    assert row["country_iso_code"] == "CAN"
    assert row["country_name"] == "Canada"
    assert row["region"] == "Quebec (CA-QC)"  # the region as the grid data name it
    assert row["pue"] == "1.5"


def test_process_mode_is_recorded_and_bounded_by_machine(env):
    tracker = EmissionsTracker(tracking_mode="process")
    tracker.start()
    sum(i * i for i in range(200000))  # some CPU time of our own
    env.add(3600000, 3600000)
    tracker.stop()
    data = tracker.final_emissions_data
    assert data.tracking_mode == "process"
    assert data.cpu_energy is not None
    assert 0 <= data.cpu_energy <= kwh(3600000) * (1 + REL)
    assert 0 <= data.ram_energy <= kwh(3600000) * (1 + REL)


def test_flush_writes_cumulative_rows_and_keeps_running(env):
    tracker = EmissionsTracker()
    tracker.start()
    env.add(3600000, 0)
    first = tracker.flush()
    env.add(3600000, 0)
    total = tracker.stop()
    assert first == approx(1e-6 * WORLD_G_PER_KWH / 1000)
    assert total == approx(2e-6 * WORLD_G_PER_KWH / 1000)
    rows = read_rows("emissions.csv")
    assert [float(r["cpu_energy"]) for r in rows] == [approx(1e-6), approx(2e-6)]
    assert rows[0]["run_id"] == rows[1]["run_id"] == str(tracker.run_id)


def test_update_mode_keeps_one_row_per_run(env):
    with open("emissions.csv", "w"):
        pass  # an empty file gets the header
    other = EmissionsTracker(on_csv_write="update")
    other.start()
    other.stop()
    tracker = EmissionsTracker(on_csv_write="update")
    tracker.start()
    env.add(3600000, 0)
    tracker.flush()
    env.add(3600000, 0)
    tracker.stop()
    rows = read_rows("emissions.csv")
    assert [r["run_id"] for r in rows] == [str(other.run_id), str(tracker.run_id)]
    assert float(rows[1]["cpu_energy"]) == approx(2e-6)


def test_save_to_file_false_writes_nothing(env):
    tracker = EmissionsTracker(save_to_file=False)
    tracker.start()
    env.add(3600000, 0)
    assert tracker.stop() == approx(1e-6 * WORLD_G_PER_KWH / 1000)
    assert not os.path.exists("emissions.csv")


def test_tasks_are_exact_slices(env):
    tracker = EmissionsTracker()
    tracker.start()
    env.add(1000000, 0)         # before any task
    tracker.start_task("load")
    env.add(3600000, 360000)
    load = tracker.stop_task()
    env.add(2000000, 0)         # between tasks
    tracker.start_task("train")
    env.add(7200000, 0)
    train = tracker.stop_task()
    total = tracker.stop()

    assert load.cpu_energy == approx(1e-6)
    assert load.ram_energy == approx(1e-7)
    assert train.cpu_energy == approx(2e-6)
    assert train.ram_energy == 0.0  # measured, and it did not move
    assert tracker.final_emissions_data.cpu_energy == approx(kwh(1000000 + 3600000 + 2000000 + 7200000))
    assert total == approx(tracker.final_emissions_data.energy_consumed * WORLD_G_PER_KWH / 1000)
    assert set(tracker.tasks) == {"load", "train"}
    assert tracker.tasks["load"].emissions_data == load
    assert load.run_id == str(tracker.run_id)


def test_start_task_without_start_and_duplicate_names(env):
    tracker = EmissionsTracker()
    tracker.start_task("step")  # CodeCarbon allows tasks without start()
    env.add(3600000, 0)
    first = tracker.stop_task()
    tracker.start_task("step")
    second = tracker.stop_task()
    tracker.stop()
    names = list(tracker.tasks)
    assert names[0] == "step" and names[1].startswith("step_") and len(names) == 2
    assert first.cpu_energy == approx(1e-6)
    assert second.cpu_energy == 0.0


def test_stop_task_without_task_returns_none(env):
    tracker = EmissionsTracker()
    tracker.start()
    assert tracker.stop_task() is None
    tracker.stop()


def test_context_manager(env):
    with EmissionsTracker(project_name="ctx") as tracker:
        env.add(3600000, 0)
    assert tracker.final_emissions_data.cpu_energy == approx(1e-6)
    assert read_rows("emissions.csv")[0]["project_name"] == "ctx"


def test_exception_inside_context_still_writes_the_row(env):
    with pytest.raises(RuntimeError, match="boom"):
        with EmissionsTracker() as tracker:
            env.add(3600000, 0)
            raise RuntimeError("boom")
    assert tracker.final_emissions_data.cpu_energy == approx(1e-6)
    assert len(read_rows("emissions.csv")) == 1


def test_stop_without_start_and_double_start(env, caplog):
    tracker = EmissionsTracker()
    assert tracker.stop() is None  # as CodeCarbon
    assert tracker.flush() is None
    tracker.start()
    tracker.start()  # warned, ignored
    env.add(3600000, 0)
    assert tracker.stop() == approx(1e-6 * WORLD_G_PER_KWH / 1000)
    assert "already running" in caplog.text
    assert "not started" in caplog.text


def test_restart_measures_the_new_run_only(env):
    tracker = EmissionsTracker()
    tracker.start()
    env.add(3600000, 0)
    tracker.stop()
    env.add(1000000, 0)  # between runs: not counted
    tracker.start()
    env.add(7200000, 0)
    tracker.stop()
    assert tracker.final_emissions_data.cpu_energy == approx(2e-6)


def test_write_failure_is_logged_not_raised(env, caplog):
    with open("blocker", "w"):
        pass
    tracker = EmissionsTracker(output_dir=os.path.join(env.work, "blocker", "sub"))
    tracker.start()
    env.add(3600000, 0)
    assert tracker.stop() == approx(1e-6 * WORLD_G_PER_KWH / 1000)
    assert "cannot write the CSV row" in caplog.text


def test_to_json_has_methods_and_exact_joules(env):
    tracker = EmissionsTracker(save_to_file=False)
    tracker.start()
    env.add(7200000, 900000)
    tracker.stop()
    record = json.loads(tracker.to_json())
    assert record["kinds"]["cpu"]["method"] == "measured_counter"
    assert record["kinds"]["cpu"]["machine"]["j"] == pytest.approx(7.2, rel=REL)
    assert record["kinds"]["dram"]["machine"]["j"] == pytest.approx(0.9, rel=REL)


def test_parameters_without_effect_are_accepted_and_say_so(env, caplog):
    tracker = EmissionsTracker(rapl_include_dram=True, rapl_prefer_psys=True, force_mode_cpu_load=True)
    for name in ("rapl_include_dram", "rapl_prefer_psys", "force_mode_cpu_load"):
        assert f"{name} has no effect in wattprint" in caplog.text
    tracker.start()
    assert tracker.stop() is not None


FAKE_NVML = os.environ.get("WP_TEST_FAKE_NVML")  # set by ctest (python/CMakeLists.txt)
NVML_SCENARIO = ("count 2\n"
                 "gpu0.name NVIDIA A100-SXM4-40GB\ngpu0.uuid GPU-a\ngpu0.energy_mj 1000\n"
                 "gpu1.name NVIDIA H100 80GB HBM3\ngpu1.uuid GPU-b\ngpu1.energy_mj 5000\n")


@pytest.mark.skipif(not FAKE_NVML, reason="needs the fake NVML library that ctest names")
@pytest.mark.parametrize("select, cuda, gpu_j, model", [
    ({"gpu_ids": [1]}, None, 1800.0, "1 x NVIDIA H100 80GB HBM3"),
    ({"gpu_ids": "0"}, "1", 900.0, "1 x NVIDIA A100-SXM4-40GB"),  # gpu_ids wins over CUDA_VISIBLE_DEVICES
    ({}, "0", 900.0, "1 x NVIDIA A100-SXM4-40GB"),                  # as CUDA sees them
    ({}, None, 2700.0, None),                                      # every GPU
])
def test_gpu_selection_follows_gpu_ids_then_cuda_visible_devices(env, monkeypatch, select, cuda, gpu_j, model):
    scenario = os.path.join(env.work, "nvml-scenario")
    with open(scenario, "w") as f:
        f.write(NVML_SCENARIO)
    monkeypatch.setenv("WATTPRINT_NVML_LIBRARY", FAKE_NVML)
    monkeypatch.setenv("FAKE_NVML_SCENARIO", scenario)
    if cuda is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", cuda)
    tracker = EmissionsTracker(save_to_file=False, **select)
    tracker.start()
    # The fake reads the file anew: 900 J on gpu0, 1800 J on gpu1 (what a
    # GPU under its 2000 W default ceiling can use in about a second).
    with open(scenario, "a") as f:
        f.write("gpu0.energy_mj 901000\ngpu1.energy_mj 1805000\n")
    tracker.stop()
    d = tracker.final_emissions_data
    assert d.gpu_energy == approx(kwh(gpu_j * 1e6))
    if model is not None:
        assert (d.gpu_count, d.gpu_model) == (1, model)
    else:
        assert d.gpu_count == 2


def test_emissions_tracker_finds_the_country_from_the_time_zone(env, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    tracker = EmissionsTracker(save_to_file=False)
    tracker.start()
    env.add(3600000, 0)  # 1e-6 kWh
    emissions = tracker.stop()
    assert emissions == approx(1e-6 * zone_latest_g_per_kwh("FR") / 1000)
    d = tracker.final_emissions_data
    assert (d.country_iso_code, d.country_name) == ("FRA", "France")


def test_offline_tracker_never_detects_and_configuration_beats_detection(env, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    offline = OfflineEmissionsTracker(save_to_file=False)  # the time zone is not looked at
    with offline:
        pass
    assert offline.final_emissions_data.country_name is None
    tracker = EmissionsTracker(country_iso_code="DEU", save_to_file=False)
    tracker.start()
    env.add(3600000, 0)
    assert tracker.stop() == approx(1e-6 * zone_latest_g_per_kwh("DE") / 1000)


def test_emissions_tracker_asks_the_cloud_metadata_service_and_caches_the_answer(env, monkeypatch):
    import http.server
    import threading

    asked = []

    class Azure(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            if self.path.startswith("/metadata/instance") and self.headers.get("Metadata") == "true":
                body = b'{"compute":{"location":"westeurope"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def do_PUT(self):  # AWS's IMDSv2 token request
            asked.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Azure)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("WATTPRINT_CLOUD_METADATA", "true")
        monkeypatch.setenv("WATTPRINT_METADATA_ENDPOINT", "http://127.0.0.1:%d" % server.server_address[1])
        monkeypatch.setenv("TZ", "Europe/Paris")  # the cloud answer comes first
        tracker = EmissionsTracker(save_to_file=False)
        tracker.start()
        tracker.stop()
        d = tracker.final_emissions_data
        assert (d.cloud_provider, d.cloud_region, d.on_cloud) == ("azure", "westeurope", "Y")
        assert d.country_iso_code == "NLD"  # westeurope is in the Netherlands (data/cloud_regions.csv)
        n = len(asked)
        assert n > 0
        EmissionsTracker(save_to_file=False)  # answered from $HOME/.cache/wattprint
        assert len(asked) == n
    finally:
        server.shutdown()
