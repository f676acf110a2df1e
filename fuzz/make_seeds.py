#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora under fuzz/corpus/ (committed).

The sysfs seeds are the test fixture trees (tests/fixtures/*) in the tree
format of fuzz/tree.h, with a second round in which every counter moves on;
the other seeds are small typical inputs. Run it again after adding a
fixture: /usr/bin/python3 fuzz/make_seeds.py
"""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(name, seed, data):
    d = CORPUS / name
    d.mkdir(parents=True, exist_ok=True)
    (d / seed).write_bytes(data if isinstance(data, bytes) else data.encode())


def tree_of(base, only=("sys", "proc")):
    """The files and links under base/{sys,proc} in tree.h's format."""
    out = []
    for top in only:
        for dirpath, dirnames, filenames in os.walk(base / top):
            dirnames.sort()
            for f in sorted(filenames) + sorted(d for d in dirnames if os.path.islink(os.path.join(dirpath, d))):
                p = pathlib.Path(dirpath) / f
                rel = p.relative_to(base).as_posix()
                if p.is_symlink():
                    out.append(f"@>{rel} {os.readlink(p)}\n")
                elif p.is_file():
                    out.append(f"@{rel}\n" + p.read_text(errors="replace"))
    return "".join(s if s.endswith("\n") else s + "\n" for s in out)


def counters_moved(base):
    """A second round: every energy counter 1 J (1e6 µJ) further on."""
    out = ["@@\n"]
    for p in sorted((base / "sys").rglob("*")):
        if p.is_file() and (p.name in ("energy_uj",) or (p.name.startswith("energy") and p.name.endswith("_input"))):
            try:
                v = int(p.read_text().strip())
            except ValueError:
                continue
            out.append(f"@{p.relative_to(base).as_posix()}\n{v + 1000000}\n")
    return "".join(out)


def main():
    fixtures = ROOT / "tests" / "fixtures"
    for fx in sorted(fixtures.iterdir()):
        if (fx / "sys").is_dir():
            write("fuzz_sysfs", fx.name, tree_of(fx) + counters_moved(fx))
    cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n\n" \
              "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n\n"
    meminfo = "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"
    write("fuzz_sysfs", "estimates",
          f"@proc/cpuinfo\n{cpuinfo}@proc/meminfo\n{meminfo}"
          "@sys/devices/system/edac/mc/mc0/dimm0/size\n16384\n@sys/devices/system/edac/mc/mc0/dimm1/size\n16384\n"
          "@sys/class/hwmon/hwmon0/name\namdgpu\n@sys/class/hwmon/hwmon0/power1_average\n25000000\n"
          "@sys/class/hwmon/hwmon0/power1_cap\n300000000\n"
          "@sys/class/powercap/intel-rapl:0/constraint_0_max_power_uw\n150000000\n"
          "@@\n@sys/class/hwmon/hwmon0/power1_average\n35000000\n")

    stat = "cpu  1000 0 500 8000 10 0 5 0 0 0\ncpu0 500 0 250 4000 5 0 2 0 0 0\ncpu1 500 0 250 4000 5 0 3 0 0 0\n"
    pid_stat = "100 (sh) S 1 100 100 0 -1 4194304 100 0 0 0 {u} {s} 0 0 20 0 {t} 0 12345 1000000 250 " \
               "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
    write("fuzz_proc", "tree",
          f"@proc/stat\n{stat}@proc/meminfo\n{meminfo}@proc/cpuinfo\n{cpuinfo}"
          + "@proc/100/stat\n" + pid_stat.format(u=10, s=5, t=1)
          + "@proc/100/task/100/children\n101\n"
          + "@proc/101/stat\n" + pid_stat.format(u=3, s=1, t=2).replace("100 (sh)", "101 (my prog) x", 1)
          + "@proc/101/task/101/children\n\n@proc/101/task/102/children\n\n"
          + "@@\n@proc/stat\n" + stat.replace("1000 0 500 8000", "1100 0 550 8200")
          + "@proc/100/stat\n" + pid_stat.format(u=20, s=9, t=1)
          + "@-proc/101/stat\n")

    write("fuzz_config", "toml", b"\x00" + b'project_name = "p"\npue = 1.2\ncountry = "FRA"\nscope = "process"\n'
          b'interval = 0.5\nsave_to_file = false\nlive_intensity = "uk"\nuk_region = 13\n')
    write("fuzz_config", "env", b"\x01WATTPRINT_PUE=1.5\nWATTPRINT_COUNTRY=DEU\nWATTPRINT_QUIET=true\n"
          b"WATTPRINT_INTERVAL=2\nPATH=/usr/bin\nWATTPRINT_OUTPUT_DIR=/tmp/x\n")
    write("fuzz_config", "toml-unicode", "\x00# réglages: ΐ \u3000\nproject_name = \"Café ΐ \\\" x\"\n"
          "experiment_name = 'ΐ'\noutput_dir = \"\"\"\nΐ\n\"\"\"\n".encode())
    write("fuzz_config", "toml-bare-key", "\x00uk_regiΐlc = 1\n".encode())
    write("fuzz_config", "value", b"\x02live_cache_ttl=300")
    write("fuzz_config", "value-intensity", b"\x02intensity=1e308")

    uk = '{"data":[{"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z","intensity":{"forecast":266,"actual":263,"index":"moderate"}}]}'
    ukr = ('{"data":[{"regionid":13,"dnoregion":"UKPN London","shortname":"London","data":[{"from":"2018-01-20T12:00Z",'
           '"to":"2018-01-20T12:30Z","intensity":{"forecast":266,"index":"moderate"},"generationmix":[]}]}]}')
    em = ('{"zone":"DE","carbonIntensity":302,"datetime":"2019-05-21T00:00:00.000Z","updatedAt":"2019-05-21T00:05:00.000Z",'
          '"emissionFactorType":"lifecycle","isEstimated":false}')
    write("fuzz_live", "uk", "\x00" + uk)
    write("fuzz_live", "uk-regional", "\x01" + ukr)
    write("fuzz_live", "electricitymaps", "\x02" + em)
    write("fuzz_live", "iso", "\x032024-02-29T23:59:59.999Z")
    write("fuzz_live", "iso-far", "\x039999-12-31T00:00Z")
    import json
    write("fuzz_live", "cache", "\x04" + json.dumps({"url": "http://127.0.0.1:1/intensity",
                                                     "fetched_at": 1780271000, "body": uk}))

    write("fuzz_cloud_metadata", "aws", "\x00eu-west-3\n")
    write("fuzz_cloud_metadata", "gcp", "\x01projects/123456789/zones/us-central1-a")
    write("fuzz_cloud_metadata", "azure", '\x02{"compute":{"location":"westeurope","name":"vm"}}')
    write("fuzz_cloud_metadata", "cache", "\x03" + json.dumps(
        {"endpoint": "http://127.0.0.1:1", "checked_at": 1780271000, "provider": "gcp",
         "region": "us-central1", "detail": "GCP metadata: zone us-central1-a, region us-central1"}))
    write("fuzz_cloud_metadata", "cache-min-time", "\x03" + json.dumps(
        {"endpoint": "http://127.0.0.1:1", "checked_at": -9223372036854775808, "provider": "aws",
         "region": "eu-west-3", "detail": "x"}))
    write("fuzz_cloud_metadata", "cache-none", "\x03" + json.dumps(
        {"endpoint": "http://127.0.0.1:1", "checked_at": 1780271000, "provider": "", "region": "", "detail": ""}))

    # The CSV header wattprint writes, and a CodeCarbon 2.x one.
    header = (ROOT / "fuzz" / "csv_header.txt").read_text()
    row = ",".join("x" if i % 5 else "1.5" for i in range(header.count(",") + 1))
    write("fuzz_csv_append", "wattprint", header + row + "\n")
    write("fuzz_csv_append", "no-newline", header + row)
    write("fuzz_csv_append", "empty", "")
    write("fuzz_csv_append", "codecarbon-2", "timestamp,project_name,run_id,duration,emissions,emissions_rate,"
          "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name\n"
          "2023-01-01T00:00:00,p,r,1,0.1,0.1,1,0,1,1,0,1,2,France\n")
    write("fuzz_csv_append", "bom-crlf", "\ufeff" + header.replace("\n", "\r\n") + row + "\r\n")

    write("fuzz_compare", "csv-last", "\x00" + header + row + "\n" +
          "2024-05-01T13:00:00,p,r,e,1,0.25,0,0,0,0,0,0,0,2.0,0,France,FRA\n")
    write("fuzz_compare", "csv-quoted", "\x02emissions,energy_consumed,country_name\n0.1,0.2,\"Fr,\"\"an\"\"ce\"\n"
          "0.3,0.4,\"multi\nline\"\n")
    record = (ROOT / "fuzz" / "record.json").read_text()
    write("fuzz_compare", "record", "\x00" + record)

    write("fuzz_collector", "record", "\x00" + record)
    write("fuzz_collector", "metadata", "\x01" + '{"run_id": "r1", "start": "2026-12-01T08:43:22.799447+00:00", '
          '"host": "n1", "gpu_count": 2, "cluster_job": {"cluster": "hpc", "job_id": "42", "node": "n1"}}')
    write("fuzz_collector", "interval", "\x02" + '{"seq": 3, "start": "2026-12-01T08:00:00Z", '
          '"end": "2026-12-01T08:00:01Z", "duration_s": 1.0, "cpu_energy_kwh": 1e-5, "gpu_energy_kwh": 0, '
          '"ram_energy_kwh": 2e-6, "energy_kwh": 1.2e-5, "emissions_kg": 1e-6, "cpu_power_w": 36.0}')
    write("fuzz_collector", "time", "\x03" + "2026-12-01T08:43:22.799447+05:30")


if __name__ == "__main__":
    main()
