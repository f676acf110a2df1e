"""Several trackers in one process, trackers used from threads, fork, and
the allow_multiple_runs lock."""

import os
import threading

import pytest

from conftest import read_rows
from wattprint import EmissionsTracker


def test_two_trackers_at_once_each_see_their_own_window(env):
    outer = EmissionsTracker(output_file="outer.csv")
    inner = EmissionsTracker(output_file="inner.csv")
    outer.start()
    env.add(1000000, 0)
    inner.start()
    env.add(3600000, 0)
    inner.stop()
    env.add(2000000, 0)
    outer.stop()
    assert inner.final_emissions_data.cpu_energy == pytest.approx(1e-6, rel=1e-12)
    assert outer.final_emissions_data.cpu_energy == pytest.approx(6.6e6 / 3.6e12, rel=1e-12)
    assert inner.run_id != outer.run_id
    assert len(read_rows("outer.csv")) == len(read_rows("inner.csv")) == 1


def test_trackers_in_threads_write_whole_rows(env):
    errors = []

    def worker(i):
        try:
            with EmissionsTracker(project_name=f"t{i}", measure_power_secs=0.01):
                sum(range(20000))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = read_rows("emissions.csv")
    assert sorted(r["project_name"] for r in rows) == [f"t{i}" for i in range(8)]
    assert all(r["cpu_energy"] != "" for r in rows)


def test_start_in_one_thread_stop_in_another(env):
    tracker = EmissionsTracker()
    t = threading.Thread(target=tracker.start)
    t.start()
    t.join()
    env.add(3600000, 0)
    result = []
    t = threading.Thread(target=lambda: result.append(tracker.stop()))
    t.start()
    t.join()
    assert result[0] is not None
    assert tracker.final_emissions_data.cpu_energy == pytest.approx(1e-6, rel=1e-12)


def test_concurrent_flushes_and_stop_never_break(env):
    tracker = EmissionsTracker(measure_power_secs=0.01)
    tracker.start()
    threads = [threading.Thread(target=tracker.flush) for _ in range(4)]
    for t in threads:
        t.start()
    env.add(3600000, 0)
    for t in threads:
        t.join()
    tracker.stop()
    assert tracker.final_emissions_data.cpu_energy == pytest.approx(1e-6, rel=1e-12)
    assert len(read_rows("emissions.csv")) == 5


def test_fork_child_tracker_is_inert_parent_unaffected(env):
    tracker = EmissionsTracker(measure_power_secs=0.01)
    tracker.start()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report what it sees, never return into pytest
        code = 1
        try:
            inherited = tracker.stop()
            fresh = EmissionsTracker(save_to_file=False)
            fresh.start()
            env.add(3600000, 0)
            own = fresh.stop()
            ok = inherited is None and own is not None and \
                abs(fresh.final_emissions_data.cpu_energy - 1e-6) < 1e-17
            os.write(w, b"ok" if ok else f"bad {inherited} {own}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    message = os.read(r, 200)
    os.close(r)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert message == b"ok"
    env.add(3600000, 0)
    tracker.stop()
    # The parent saw both moves: the child's and its own.
    assert tracker.final_emissions_data.cpu_energy == pytest.approx(2e-6, rel=1e-12)
    assert len(read_rows("emissions.csv")) == 1


def test_allow_multiple_runs_false_locks_out_a_second_tracker(env, caplog):
    first = EmissionsTracker(allow_multiple_runs=False)
    second = EmissionsTracker(allow_multiple_runs=False)
    assert "another wattprint tracker is running" in caplog.text
    first.start()
    second.start()
    env.add(3600000, 0)
    assert second.stop() is None
    assert first.stop() is not None
    third = EmissionsTracker(allow_multiple_runs=False)  # the lock was released at stop
    third.start()
    assert third.stop() is not None
    assert os.path.exists(os.path.join(env.tmp, ".wattprint.lock"))


def test_default_allows_multiple_runs(env):
    a = EmissionsTracker()
    b = EmissionsTracker()
    a.start()
    b.start()
    assert a.stop() is not None and b.stop() is not None
