"""The installed C API as a project outside wattprint sees it.

Installs the build's `capi` component into a temporary prefix, configures
and builds tests/capi/ (a separate CMake project) against it, runs the
programs on a fake powercap tree and checks what they wrote.

  consumer_test.py --build BUILD --find cmake|pkgconfig [--static] [--fortran]
  consumer_test.py --build BUILD --mpi          4 ranks on one node
  consumer_test.py --build BUILD --abi          a program built on the
                                                first release's header
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = "sys/class/powercap/intel-rapl:0"
DRAM = "sys/class/powercap/intel-rapl:0:0"
RANGE_UJ = 262143328850
START_UJ = 1000000000  # ten digits: the programs overwrite in place


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def write_tree(root):
    for zone, name in ((PKG, "package-0"), (DRAM, "dram")):
        d = os.path.join(root, zone)
        os.makedirs(d)
        for f, v in (("name", name), ("energy_uj", str(START_UJ)), ("max_energy_range_uj", str(RANGE_UJ)),
                     ("enabled", "1")):
            with open(os.path.join(d, f), "w") as fh:
                fh.write(v + "\n")


def install(build, prefix):
    run(["cmake", "--install", build, "--prefix", prefix, "--component", "capi"], stdout=subprocess.DEVNULL)
    inc = os.listdir(os.path.join(prefix, "include", "wattprint"))
    # Only the stable C header (and the Fortran module): no C++ header.
    assert sorted(i for i in inc if i != "fortran") == ["wattprint.h"], inc


def environment(tmp):
    """The programs' environment: no caller's WATTPRINT_* or location."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WATTPRINT_", "CODECARBON_", "OMPI_", "PMI_", "SLURM_", "MPI_"))}
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    env.update(HOME=home, TZ="UTC", XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    return env


def build_consumer(prefix, tmp, find, static=False, fortran=False, source=HERE):
    b = os.path.join(tmp, "consumer")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    run(["cmake", "-S", source, "-B", b, "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + prefix, "-DWP_FIND=" + find,
         "-DWP_STATIC=" + ("ON" if static else "OFF"), "-DWP_FORTRAN=" + ("ON" if fortran else "OFF")],
        env=env, stdout=subprocess.DEVNULL)
    run(["cmake", "--build", b], env=env)
    return b


def kwh(j):
    return j / 3.6e6


def near(a, b):
    return abs(a - b) <= 1e-9 * abs(b) + 1e-15


def joules(e):
    """A record's energy ({"j": ..., "kwh": ...}) in joules."""
    return e["j"]


def check_outputs(out, cpu_j, dram_j, task_cpu_j, task_dram_j):
    rows = list(csv.DictReader(open(os.path.join(out, "emissions.csv"), newline="")))
    assert len(rows) == 1, rows
    r = rows[0]
    # The CSV's energies carry the PUE (1.5), as CodeCarbon's do.
    assert near(float(r["cpu_energy"]), kwh(cpu_j) * 1.5), r["cpu_energy"]
    assert near(float(r["ram_energy"]), kwh(dram_j) * 1.5), r["ram_energy"]
    assert near(float(r["energy_consumed"]), kwh(cpu_j + dram_j) * 1.5), r["energy_consumed"]
    assert r["country_iso_code"] == "FRA", r["country_iso_code"]
    task = list(csv.DictReader(open(os.path.join(out, "tasks.csv"), newline="")))[0]
    assert near(float(task["cpu_energy"]), kwh(task_cpu_j) * 1.5), task["cpu_energy"]
    assert near(float(task["ram_energy"]), kwh(task_dram_j) * 1.5), task["ram_energy"]
    rec = json.load(open(os.path.join(out, "record.json")))
    assert rec["metadata"]["run_id"] == r["run_id"]
    assert "mpi" not in rec["metadata"], rec["metadata"]
    assert near(joules(rec["kinds"]["cpu"]["machine"]), cpu_j), rec["kinds"]["cpu"]
    assert near(joules(rec["kinds"]["dram"]["machine"]), dram_j), rec["kinds"]["dram"]
    assert [t["name"] for t in rec["tasks"]] == ["solve"]
    assert rec["intensity"]["zone"] == "FR", rec["intensity"]
    print("outputs ok:", os.listdir(out))


def single(args, prefix, tmp):
    b = build_consumer(prefix, tmp, args.find, args.static, args.fortran)
    programs = [os.path.join(b, "measure")]
    if args.fortran:
        programs.append(os.path.join(b, "measure_f"))
    needed = subprocess.run(["readelf", "-d", programs[0]], check=True, capture_output=True, text=True).stdout
    # The shared library by its SONAME; the static one leaves no trace.
    assert ("[libwattprint.so.0]" in needed) != args.static, needed
    for i, prog in enumerate(programs):
        tree, out = os.path.join(tmp, f"tree{i}"), os.path.join(tmp, f"out{i}")
        write_tree(tree)
        os.makedirs(out)
        run([prog, tree, out], env=environment(tmp), cwd=out)
        check_outputs(out, 10.0, 1.5, 2.0, 0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--find", default="cmake")
    p.add_argument("--static", action="store_true")
    p.add_argument("--fortran", action="store_true")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="wp-capi-")
    try:
        prefix = os.path.join(tmp, "prefix")
        install(args.build, prefix)
        single(args, prefix, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
