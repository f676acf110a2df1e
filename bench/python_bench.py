#!/usr/bin/python3
"""Costs of the wattprint Python package, as a user sees them.

  import      wall time of `import wattprint` in a fresh interpreter
              (median of --runs processes; interpreter start-up excluded)
  start+stop  wall time of tracker.start() + tracker.stop() (median of
              --runs pairs on one tracker, CSV row included; also without
              the CSV row, and the very first pair of the process)
  memory      RSS added by import, by creating a tracker, and by start+stop
              (a fresh interpreter; KiB from /proc/self/status VmRSS); also
              with the standard modules the API needs (logging,
              dataclasses, ...) already loaded, as in any ML program

Run with the interpreter the package is installed for, e.g. after
./scripts/setup.sh:
  /usr/bin/python3 bench/python_bench.py
or against a build tree:
  PYTHONPATH=build-test/python /usr/bin/python3 bench/python_bench.py
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Nothing leaves the machine: no cloud metadata probe from the trackers
# (inherited by the child interpreters below).
os.environ["WATTPRINT_CLOUD_METADATA"] = "false"

CHILD_IMPORT = """
import time
t = time.perf_counter()
import wattprint
print((time.perf_counter() - t) * 1e3)
"""

CHILD_MEMORY = """
import os, sys, tempfile
def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
for name in sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else ():
    __import__(name)  # already loaded by the program, as an ML library loads them
base = rss_kib()
import wattprint
after_import = rss_kib()
t = wattprint.EmissionsTracker(output_dir=sys.argv[1])
after_create = rss_kib()
t.start()
t.stop()
after_stop = rss_kib()
print(after_import - base, after_create - after_import, after_stop - after_create, after_stop - base)
"""


PRELOADED = "logging,dataclasses,json,uuid,copy,collections"


def run_child(code, *args):
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return out.stdout.split()


def bench_import(runs):
    return statistics.median(float(run_child(CHILD_IMPORT)[0]) for _ in range(runs))


def bench_start_stop(runs, out_dir):
    import wattprint

    tracker = wattprint.EmissionsTracker(output_dir=out_dir)
    times = []
    t = time.perf_counter()
    tracker.start()  # the process's first sampler thread: its malloc arena is new
    tracker.stop()
    first = (time.perf_counter() - t) * 1e3
    for _ in range(runs):
        t = time.perf_counter()
        tracker.start()
        tracker.stop()
        times.append((time.perf_counter() - t) * 1e3)
    no_csv = wattprint.EmissionsTracker(save_to_file=False)
    times_no_csv = []
    for _ in range(runs):
        t = time.perf_counter()
        no_csv.start()
        no_csv.stop()
        times_no_csv.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), statistics.median(times_no_csv), first


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=21, help="repetitions per measure (default 21)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        figures = {
            "import_ms": bench_import(a.runs),
            "memory_kib": dict(zip(("import", "create", "start_stop", "total"),
                                   map(int, run_child(CHILD_MEMORY, out_dir)))),
            # The standard modules CodeCarbon's API needs (logging, dataclasses)
            # are loaded by nearly every program that imports an ML library.
            "memory_kib_stdlib_loaded": dict(zip(("import", "create", "start_stop", "total"),
                                                 map(int, run_child(CHILD_MEMORY, out_dir, PRELOADED)))),
        }
        (figures["start_stop_ms"], figures["start_stop_no_csv_ms"],
         figures["first_start_stop_ms"]) = bench_start_stop(a.runs, out_dir)
    if a.json:
        print(json.dumps(figures, indent=2))
        return
    m = figures["memory_kib"]
    print(f"import wattprint          {figures['import_ms']:8.2f} ms (median of {a.runs})")
    print(f"start + stop             {figures['start_stop_ms']:8.3f} ms (median of {a.runs}, CSV row written)")
    print(f"start + stop, no CSV     {figures['start_stop_no_csv_ms']:8.3f} ms")
    print(f"first start + stop       {figures['first_start_stop_ms']:8.3f} ms (once, a new tracker)")
    print(f"memory added             {m['total']:8d} KiB (import {m['import']}, tracker {m['create']}, "
          f"start+stop {m['start_stop']})")
    m = figures["memory_kib_stdlib_loaded"]
    print(f"  with {PRELOADED} already loaded: {m['total']} KiB (import {m['import']}, tracker {m['create']}, "
          f"start+stop {m['start_stop']})")
    print(f"interpreter              {sys.executable} {sys.version.split()[0]}; "
          f"wattprint from {os.path.dirname(__import__('wattprint').__file__)}")


if __name__ == "__main__":
    main()
