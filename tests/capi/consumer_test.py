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


def build_consumer(prefix, tmp, find, static=False, fortran=False, abi_include=""):
    b = os.path.join(tmp, "consumer")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    run(["cmake", "-S", HERE, "-B", b, "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + prefix, "-DWP_FIND=" + find,
         "-DWP_STATIC=" + ("ON" if static else "OFF"), "-DWP_FORTRAN=" + ("ON" if fortran else "OFF"),
         "-DWP_ABI_INCLUDE=" + abi_include], env=env, stdout=subprocess.DEVNULL)
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


def build_examples(prefix, tmp):
    """examples/capi/ builds against the installed package and its C
    program runs (on this machine's own sources, or none: it must not fail)."""
    b = os.path.join(tmp, "examples")
    run(["cmake", "-S", os.path.join(HERE, "..", "..", "examples", "capi"), "-B", b, "-G", "Ninja",
         "-DCMAKE_PREFIX_PATH=" + prefix], stdout=subprocess.DEVNULL)
    run(["cmake", "--build", b], stdout=subprocess.DEVNULL)
    out = os.path.join(tmp, "examples-run")
    os.makedirs(out)
    env = dict(environment(tmp), WATTPRINT_CLOUD_METADATA="false")
    for prog in ("region", "region_f"):
        if os.path.exists(os.path.join(b, prog)):
            run([os.path.join(b, prog), "FRA"], env=env, cwd=out, stdout=subprocess.DEVNULL, timeout=120)


def single(args, prefix, tmp, abi_include=""):
    os.makedirs(tmp, exist_ok=True)
    if args.find == "cmake" and not args.static and not abi_include:
        build_examples(prefix, tmp)
    b = build_consumer(prefix, tmp, args.find, args.static, args.fortran, abi_include)
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


ABI_DIR = os.path.join(HERE, "abi")
RELEASES = ["0.1"]  # frozen headers, tests/capi/abi/RELEASE/wattprint/wattprint.h


def abi(args, prefix, tmp, build):
    """Programs built on each released header run against this library,
    which still exports every released function and nothing but wp_*."""
    for release in RELEASES:
        include = os.path.join(ABI_DIR, release)
        single(args, prefix, os.path.join(tmp, release), include)
        ninja = open(os.path.join(tmp, release, "consumer", "build.ninja")).read()
        assert include in ninja, "the frozen header was not on the include path"
        print(f"abi ok: a program built on the {release} header runs against {build}")
    lib = os.path.join(prefix, "lib", "libwattprint.so.0")
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.split()}
    for release in RELEASES:
        wanted = open(os.path.join(ABI_DIR, f"symbols-{release}.txt")).read().split()
        missing = sorted(set(wanted) - exported)
        assert not missing, f"functions of {release} no longer exported: {missing}"
    others = sorted(s for s in exported if not s.startswith("wp_"))
    assert not others, f"exported beyond wp_*: {others[:10]}"
    print(f"symbols ok: the {len(exported)} exported functions include every released one")


RANKS = 4


def launch_ranks(prog, tree, out, barrier, tmp):
    """4 ranks on this node: with Open MPI's mpirun when it is installed,
    else with the variables mpirun sets (the tracker reads nothing else)."""
    env = environment(tmp)
    args = [prog, tree, out, "--mpi", barrier]
    mpirun = shutil.which("mpirun")
    if mpirun:
        run([mpirun, "--oversubscribe", "--allow-run-as-root", "-np", str(RANKS)] + args, env=env, cwd=out,
            timeout=120)
        return "mpirun"
    procs = []
    for r in range(RANKS):
        e = dict(env, OMPI_COMM_WORLD_RANK=str(r), OMPI_COMM_WORLD_LOCAL_RANK=str(r),
                 OMPI_COMM_WORLD_SIZE=str(RANKS))
        procs.append(subprocess.Popen(args, env=e, cwd=out))
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0] * RANKS, codes
    return "simulated (no mpirun)"


def mpi(args, prefix, tmp):
    b = build_consumer(prefix, tmp, "cmake")
    tree, out, barrier = (os.path.join(tmp, d) for d in ("tree", "out", "barrier"))
    write_tree(tree)
    os.makedirs(out)
    os.makedirs(barrier)
    how = launch_ranks(os.path.join(b, "measure"), tree, out, barrier, tmp)
    records = [json.load(open(os.path.join(out, f"record-{r}.json"))) for r in range(RANKS)]
    tags = [rec["metadata"]["mpi"] for rec in records]
    assert sorted(t["rank"] for t in tags) == list(range(RANKS)), tags
    assert all(t["rank_variable"] == "OMPI_COMM_WORLD_RANK" and t["world_size"] == RANKS for t in tags), tags
    # One measurement of the node: local rank 0's.
    assert [t["measures_node"] for t in tags] == [t["local_rank"] == 0 for t in tags], tags
    assert sum(t["measures_node"] for t in tags) == 1, tags
    total = sum(joules(rec["energy"]["machine"]) for rec in records)
    assert near(total, 5.0), [rec["energy"] for rec in records]  # 4 J package + 1 J dram, counted once
    for rec, t in zip(records, tags):
        if not t["measures_node"]:
            assert rec["channels"] == [] and (rec["kinds"].get("cpu") or {}).get("machine") is None, rec["kinds"]
    rows = list(csv.DictReader(open(os.path.join(out, "emissions.csv"), newline="")))
    assert len(rows) == RANKS, rows
    consumed = sum(float(r["energy_consumed"] or 0) for r in rows)
    assert near(consumed, kwh(5.0) * 1.5), consumed
    print(f"mpi ok ({how}): one node measurement of 5 J in {RANKS} tagged records")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--find", default="cmake")
    p.add_argument("--static", action="store_true")
    p.add_argument("--fortran", action="store_true")
    p.add_argument("--mpi", action="store_true")
    p.add_argument("--abi", action="store_true")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="wp-capi-")
    try:
        prefix = os.path.join(tmp, "prefix")
        install(args.build, prefix)
        if args.mpi:
            mpi(args, prefix, tmp)
        elif args.abi:
            abi(args, prefix, tmp, args.build)
        else:
            single(args, prefix, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
