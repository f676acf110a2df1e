"""EmissionsTracker.predict() on a fake RAPL tree: the library's prediction
after real tasks (exact energies, the Student-t interval, the one-task
fallback, tasks that measured nothing), the automatic log after the k-th
task, misuse, and the budget share and live forecast from fake servers on
127.0.0.1."""

import http.server
import json
import logging
import math
import threading

import pytest

from conftest import WORLD_G_PER_KWH, kwh
from wattprint import EmissionsTracker, OfflineEmissionsTracker, Prediction

REL = 1e-9
T_95_2 = 2.920  # Student's t, p = 0.95, 2 degrees of freedom (NIST/SEMATECH e-Handbook, table 1.3.6.7.2)


def run_tasks(tracker, env, pkg_uj):
    """One task per counter step; returns their EmissionsData."""
    out = []
    for i, uj in enumerate(pkg_uj):
        tracker.start_task(f"epoch {i + 1}")
        env.add(uj, 360000)
        out.append(tracker.stop_task())
    return out


def sample_sd(xs):
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def test_prediction_after_three_tasks_is_the_librarys_exact_figures(env):
    tracker = EmissionsTracker(output_methods=[])
    tracker.start()
    tasks = run_tasks(tracker, env, [3600000, 4320000, 2880000])
    p = tracker.predict(total_tasks=10)
    tracker.stop()
    assert tracker.predict(10).energy_kwh == p.energy_kwh  # after stop(): the same finished tasks

    assert isinstance(p, Prediction)
    energies = [kwh(uj + 360000) for uj in (3600000, 4320000, 2880000)]
    assert [t.energy_consumed for t in tasks] == [pytest.approx(e, rel=REL) for e in energies]
    mean = sum(energies) / 3
    assert (p.done_tasks, p.total_tasks, p.remaining_tasks) == (3, 10, 7)
    assert p.energy_kwh.value == pytest.approx(sum(energies) + 7 * mean, rel=REL)
    half = T_95_2 * sample_sd(energies) * math.sqrt(7 + 49 / 3)
    assert p.energy_kwh.high - p.energy_kwh.value == pytest.approx(half, rel=1e-3)
    assert p.energy_kwh.value - p.energy_kwh.low == pytest.approx(half, rel=1e-3)
    assert p.remaining_energy_kwh.value == pytest.approx(7 * mean, rel=REL)
    # One intensity throughout (the world average): CO2e is energy x intensity.
    assert p.emissions_kg.value == pytest.approx(p.energy_kwh.value * WORLD_G_PER_KWH / 1000, rel=REL)
    durations = [t.duration for t in tasks]
    assert p.duration_s.value == pytest.approx(sum(durations) * 10 / 3, rel=1e-6)
    assert p.confidence == 0.9
    assert p.interval == "90 % Student-t prediction interval (2 degrees of freedom) for the 7 tasks to come"
    assert p.basis.startswith("3 tasks: mean ")
    assert p.intensity.startswith("intensity for the remaining ")
    assert "current intensity of the run" in p.intensity
    assert p.budget is None and p.forecast_used is False
    assert str(p) == p.text and p.text.startswith("prediction for 10 tasks, after 3 done:\n")
    d = p.as_dict()
    assert d["energy_kwh"]["value"] == p.energy_kwh.value
    assert d["remaining"]["tasks"] == 7


def test_one_task_uses_the_stated_fallback_and_a_level_may_be_given(env):
    tracker = EmissionsTracker(output_methods=[])
    tracker.start()
    run_tasks(tracker, env, [3600000])
    p = tracker.predict(4, confidence=0.8)
    tracker.stop()
    e = kwh(3600000 + 360000)
    assert p.energy_kwh.value == pytest.approx(4 * e, rel=REL)
    assert p.energy_kwh.low == pytest.approx(e + 3 * e * 0.75, rel=REL)
    assert p.energy_kwh.high == pytest.approx(e + 3 * e * 1.25, rel=REL)
    assert p.confidence == 0.8
    assert "one task shows no spread: +-25 % per task is assumed" in p.basis


def test_tasks_that_measured_nothing_give_zeros_not_nan(env):
    tracker = EmissionsTracker(output_methods=[])
    tracker.start()
    for i in range(2):
        tracker.start_task(f"t{i}")
        tracker.stop_task()
    p = tracker.predict(100)
    tracker.stop()
    assert p.energy_kwh == p.emissions_kg  # all zeros
    assert (p.energy_kwh.value, p.energy_kwh.low, p.energy_kwh.high) == (0.0, 0.0, 0.0)
    assert all(math.isfinite(v) for v in (p.duration_s.value, p.duration_s.low, p.duration_s.high))
    assert "nan" not in p.text and "inf" not in p.text
    assert "the done tasks measured no energy: are the sources reading anything?" in p.notes


def test_misuse_is_logged_or_raises(env, caplog):
    tracker = EmissionsTracker(output_methods=[])
    tracker.start()
    assert tracker.predict(10) is None
    assert "predict() ignored: no task has finished yet (stop_task() ends one)" in caplog.text
    run_tasks(tracker, env, [3600000, 3600000, 3600000])
    assert tracker.predict(2) is None
    assert "predict(total_tasks=2) ignored: 3 tasks are already done" in caplog.text
    for bad in (0, -1, 2.5, "10", True, None):
        with pytest.raises(ValueError, match="total_tasks="):
            tracker.predict(bad)
    for bad in (0, 1, 1.5, "0.9", math.nan):
        with pytest.raises(ValueError, match="confidence="):
            tracker.predict(10, confidence=bad)
    assert tracker.predict(3).remaining_tasks == 0  # every task done: the measured run
    tracker.stop()


def test_prediction_is_logged_once_after_the_kth_task(env, caplog):
    caplog.set_level(logging.INFO, logger="wattprint")
    tracker = EmissionsTracker(output_methods=[], predict_total_tasks=5, predict_after_tasks=2)
    tracker.start()
    run_tasks(tracker, env, [3600000])
    assert "prediction for" not in caplog.text
    run_tasks(tracker, env, [3600000, 3600000])
    tracker.stop()
    logged = [r for r in caplog.records if r.getMessage().startswith("prediction for 5 tasks")]
    assert len(logged) == 1
    assert logged[0].levelname == "INFO"
    assert logged[0].getMessage().startswith("prediction for 5 tasks, after 2 done:\n  energy    ")


def test_prediction_arguments_are_checked_and_offline_takes_them(env, caplog):
    caplog.set_level(logging.INFO, logger="wattprint")
    EmissionsTracker(predict_total_tasks=0)
    assert "predict_total_tasks=0: expected a whole number of tasks, 1 or more" in caplog.text
    EmissionsTracker(predict_after_tasks=3)
    assert "predict_after_tasks=3 has no effect without predict_total_tasks" in caplog.text
    EmissionsTracker(predict_total_tasks=2, predict_after_tasks=3)
    assert "predict_after_tasks=3 is more than predict_total_tasks=2" in caplog.text
    with pytest.raises(TypeError):
        EmissionsTracker(predict_tasks=3)  # a misspelt keyword is still a TypeError
    caplog.clear()
    tracker = OfflineEmissionsTracker(country_iso_code="FRA", output_methods=[], predict_total_tasks=3)
    assert "unknown parameter" not in caplog.text
    tracker.start()
    run_tasks(tracker, env, [3600000])
    tracker.stop()
    assert "prediction for 3 tasks, after 1 done:" in caplog.text


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 answering GETs with `answer(path,
    headers)` -> (status, body); records the paths asked."""

    def __init__(self, answer):
        outer = self
        self.paths = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.paths.append(self.path)
                status, body = answer(self.path, self.headers)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_budget_share_inside_a_slurm_job(env, monkeypatch):
    seen = {}

    def answer(path, headers):
        seen["auth"] = headers.get("Authorization")
        if path != "/api/v1/budgets/physics":
            return 404, '{"error":"no budget"}'
        return 200, json.dumps({"account": "physics", "year": 2026, "budget_kg": 1.0, "spent_kg": 0.25,
                                "remaining_kg": 0.75, "state": "ok"})

    server = _Server(answer)
    try:
        monkeypatch.setenv("WATTPRINT_COLLECTOR_URL", server.url)
        monkeypatch.setenv("WATTPRINT_COLLECTOR_TOKEN", "secret")
        monkeypatch.setenv("SLURM_JOB_ID", "77")
        monkeypatch.setenv("SLURM_JOB_ACCOUNT", "physics")
        tracker = EmissionsTracker(output_methods=[])
        tracker.start()
        run_tasks(tracker, env, [3600000, 3600000])
        p = tracker.predict(10)
        tracker.stop()
    finally:
        server.close()
    assert server.paths == ["/api/v1/budgets/physics"]
    assert seen["auth"] == "Bearer secret"
    assert p.budget["account"] == "physics" and p.budget["year"] == 2026
    assert p.budget["remaining_kg"] == 0.75
    assert p.budget["run_total_kg"] == pytest.approx(p.emissions_kg.value, rel=REL)
    assert p.budget["share"] == pytest.approx(p.emissions_kg.value / 0.75, rel=REL)
    assert "  budget    the whole run would take " in p.text and "of account physics's remaining 750 g CO2e" in p.text

    # The collector gone: the prediction still comes, with a note.
    tracker = EmissionsTracker(output_methods=[])
    tracker.start()
    run_tasks(tracker, env, [3600000])
    p = tracker.predict(10)
    tracker.stop()
    assert p is not None and p.budget is None
    assert any(n.startswith("budget of account physics not checked: ") for n in p.notes), p.notes


def test_live_forecast_gives_the_remaining_intensity(env, monkeypatch):
    def answer(path, headers):
        if path == "/intensity":
            return 200, json.dumps({"data": [{"from": "2018-01-20T12:00Z", "to": "2018-01-20T12:30Z",
                                              "intensity": {"forecast": 200, "actual": 200}}]})
        if path.startswith("/intensity/") and path.endswith("/fw24h"):
            import datetime

            start = datetime.datetime.strptime(path.split("/")[2], "%Y-%m-%dT%H:%MZ")
            periods = [{"from": (start + datetime.timedelta(minutes=30 * i)).strftime("%Y-%m-%dT%H:%MZ"),
                        "to": (start + datetime.timedelta(minutes=30 * (i + 1))).strftime("%Y-%m-%dT%H:%MZ"),
                        "intensity": {"forecast": 80, "actual": None}} for i in range(48)]
            return 200, json.dumps({"data": periods})
        return 404, "{}"

    server = _Server(answer)
    try:
        monkeypatch.setenv("WATTPRINT_LIVE_INTENSITY", "uk")
        monkeypatch.setenv("WATTPRINT_UK_INTENSITY_URL", server.url)
        tracker = EmissionsTracker(output_methods=[])
        tracker.start()
        run_tasks(tracker, env, [3600000, 3600000])
        p = tracker.predict(6)
        tracker.stop()
    finally:
        server.close()
    assert any(path.endswith("/fw24h") for path in server.paths), server.paths
    assert p.forecast_used is True
    assert "UK Carbon Intensity API (national), forecast, mean 80.0 g/kWh" in p.intensity
    assert p.remaining_emissions_kg.value == pytest.approx(p.remaining_energy_kwh.value * 80 / 1000, rel=REL)
    assert p.as_dict()["intensity"]["g_per_kwh"] == 80
