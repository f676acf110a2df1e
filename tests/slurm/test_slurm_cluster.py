"""The Slurm test harness itself, against a real Slurm 22.05 on 127.0.0.1:
two nodes answer one srun, a batch job's account reaches its environment,
a job_submit.lua refuses an account, a SPANK plugin runs in slurmstepd for
srun and batch steps, and stop() leaves no process and no port behind."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slurm_cluster import SlurmCluster, slurm_installed  # noqa: E402

_missing = slurm_installed()
pytestmark = pytest.mark.skipif(
    _missing is not None,
    reason=f"Slurm is not installed ({_missing} missing); scripts/setup-deps.sh installs it")

BATCH_STEP = 0xFFFFFFFB  # SLURM_BATCH_SCRIPT

SUBMIT_LUA = """\
function slurm_job_submit(job_desc, part_list, submit_uid)
   if job_desc.account == "banned" then
      slurm.log_user("wptest: account banned may not submit jobs")
      return slurm.ERROR
   end
   return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
   return slurm.SUCCESS
end
"""

# Writes marker.<job>.<step>.<node index in the job> into dir=... from
# slurm_spank_user_init, in slurmstepd only.
MARKER_SPANK_C = r"""
#include <slurm/spank.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

SPANK_PLUGIN(wptest_marker, 1);

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    const char *dir = NULL;
    uint32_t job = 0, step = 0, node = 0;
    char path[4096];
    FILE *f;
    int i;

    if (spank_context() != S_CTX_REMOTE)
        return 0;
    for (i = 0; i < ac; i++)
        if (strncmp(av[i], "dir=", 4) == 0)
            dir = av[i] + 4;
    if (!dir) {
        slurm_error("wptest_marker: no dir= argument");
        return -1;
    }
    spank_get_item(sp, S_JOB_ID, &job);
    spank_get_item(sp, S_JOB_STEPID, &step);
    spank_get_item(sp, S_JOB_NODEID, &node);
    snprintf(path, sizeof path, "%s/marker.%u.%u.%u", dir, job, step, node);
    f = fopen(path, "w");
    if (!f) {
        slurm_error("wptest_marker: cannot write %s", path);
        return -1;
    }
    fprintf(f, "job=%u step=%u node=%u\n", job, step, node);
    fclose(f);
    return 0;
}
"""


def _port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    c.start()
    yield c
    c.stop()


def test_cluster_is_up(cluster):
    assert cluster.node_states() == {"n1": "idle", "n2": "idle"}
    assert cluster.timings["start"] < 10
    p = cluster.run("scontrol", "show", "config")
    assert p.returncode == 0, p.stderr
    assert "wptest" in p.stdout
    assert str(cluster.conf_path) in p.stdout


def test_srun_on_both_nodes(cluster):
    p = cluster.srun("-N2", "-l", "printenv", "SLURMD_NODENAME")
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split("\n")[:-1]) == ["0: n1", "1: n2"]
    p = cluster.srun("-N2", "-l", "hostname")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == 2


def test_sbatch_account_reaches_job(cluster):
    job = cluster.sbatch(None, "-A", "physics", "--wrap",
                         "echo hi; echo ACCOUNT=$SLURM_JOB_ACCOUNT; echo NODE=$SLURMD_NODENAME")
    info = cluster.wait_job(job, timeout=30)
    assert info["JobState"] == "COMPLETED", info
    assert info["ExitCode"] == "0:0"
    assert info["Account"] == "physics"
    lines = cluster.output_of(job).splitlines()
    assert lines[0] == "hi"
    assert "ACCOUNT=physics" in lines
    assert any(l in ("NODE=n1", "NODE=n2") for l in lines)


def test_sbatch_script_and_failure_state(cluster):
    job = cluster.sbatch("#!/bin/sh\necho from script\nexit 3\n", "-A", "chemistry")
    info = cluster.wait_job(job, timeout=30)
    assert info["JobState"] == "FAILED", info
    assert info["ExitCode"] == "3:0"
    assert cluster.output_of(job) == "from script\n"
    # A failed job does not drain the node.
    cluster.resume(info["BatchHost"])
    assert set(cluster.node_states().values()) == {"idle"}


def test_job_submit_lua_refuses_account(tmp_path):
    lua = tmp_path / "submit.lua"
    lua.write_text(SUBMIT_LUA)
    with SlurmCluster(tmp_path / "c", job_submit_lua=lua) as c:
        assert (c.etc / "job_submit.lua").read_text() == SUBMIT_LUA
        p = c.sbatch_proc(None, "-A", "banned", "--wrap", "echo no")
        assert p.returncode != 0
        assert "wptest: account banned may not submit jobs" in p.stderr
        assert "Submitted batch job" not in p.stdout
        job = c.sbatch(None, "-A", "physics", "--wrap", "echo yes")
        assert c.wait_job(job)["JobState"] == "COMPLETED"
        assert c.output_of(job) == "yes\n"
        # srun goes through job_submit too.
        p = c.srun("-A", "banned", "true")
        assert p.returncode != 0
        assert "wptest: account banned may not submit jobs" in p.stderr
        config = c.run("scontrol", "show", "config").stdout
        assert any(l.split() == ["JobSubmitPlugins", "=", "lua"] for l in config.splitlines())
        assert "_slurm_rpc_submit_batch_job: Unspecified error" in c.slurmctld_log()


def test_spank_plugin_runs_in_steps(tmp_path):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to build the test SPANK plugin")
    src = tmp_path / "marker.c"
    src.write_text(MARKER_SPANK_C)
    so = tmp_path / "wptest_marker.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-Wall", "-Werror", "-I/usr/include/slurm",
                    "-o", str(so), str(src)], check=True)
    marks = tmp_path / "marks"
    marks.mkdir()
    with SlurmCluster(tmp_path / "c", plugstack_lines=[f"required {so} dir={marks}"]) as c:
        p = c.srun("-N2", "true")
        assert p.returncode == 0, p.stderr
        srun_job = int(c.run("squeue", "-h", "-t", "all", "-o", "%i").stdout.split()[0])
        assert sorted(f.name for f in marks.iterdir()) == \
            [f"marker.{srun_job}.0.0", f"marker.{srun_job}.0.1"]
        assert "spank: opening plugin stack" in c.slurmd_log("n1")
        assert "spank: opening plugin stack" in c.slurmd_log("n2")

        job = c.sbatch(None, "--wrap", "echo batch")
        assert c.wait_job(job)["JobState"] == "COMPLETED"
        assert c.output_of(job) == "batch\n"
        batch = [f for f in marks.iterdir() if f.name.startswith(f"marker.{job}.")]
        assert len(batch) == 1, sorted(f.name for f in marks.iterdir())
        assert batch[0].name == f"marker.{job}.{BATCH_STEP}.0"
        assert batch[0].read_text() == f"job={job} step={BATCH_STEP} node=0\n"
        host = c.scontrol_show_job(job)["BatchHost"]
        assert f"[{job}.batch] debug:  spank: opening plugin stack" in c.slurmd_log(host)


def test_stop_leaves_nothing(tmp_path):
    c = SlurmCluster(tmp_path)
    c.start()
    pids = c.pids()
    ports = c.ports()
    assert set(pids) == {"munged", "slurmctld", "slurmd-n1", "slurmd-n2"}
    # A job still running at stop is cancelled and its processes end.
    job = c.sbatch(None, "--wrap", "sleep 300")
    deadline = time.monotonic() + 15
    while c.scontrol_show_job(job).get("JobState") != "RUNNING":
        assert time.monotonic() < deadline, c.scontrol_show_job(job)
        time.sleep(0.05)
    c.stop()
    assert c.timings["stop"] < 15
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", name
    assert c.leftover_pids() == []
    p = subprocess.run(["pgrep", "-f", str(c.root)], capture_output=True, text=True)
    assert p.stdout == "", p.stdout
    for port in ports:
        assert _port_free(port), port
    assert not c.munge_socket.exists() or not _socket_answers(c.munge_socket)
    # The logs stay for a failing test to show.
    assert "Terminate signal" in c.slurmctld_log() or "terminating" in c.slurmctld_log()
    assert c.slurmd_log("n1")
    c.stop()  # a second stop is harmless


def _socket_answers(path):
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True
