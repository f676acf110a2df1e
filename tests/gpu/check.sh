#!/bin/sh
# Compares wattprint's GPU energy with NVML's own counter on a machine with a
# real NVIDIA GPU. Not part of ctest (CI has no GPU).
#
#   tests/gpu/check.sh [SECONDS] [GPU_INDEX]
#
# WATTPRINT (default build-dev/wattprint, else build/wattprint, else the one
# on PATH) is run as `wattprint run --gpu-ids GPU_INDEX -- <workload>`, with a
# workload that keeps the GPU busy for SECONDS (default 20): PyTorch if
# installed, else CuPy. NVML's total-energy counter of that GPU is read
# independently (Python ctypes straight into libnvidia-ml.so.1, no pynvml
# needed) just before and just after. Both figures and their difference are
# printed. NVML's window encloses wattprint's (start-up and exit), so NVML's
# figure is expected to be a little larger: by about the GPU's idle power x
# the extra time.
# Exit codes: 0 done, 1 a step failed, 77 nothing to run (no GPU, no NVML or
# no GPU workload library): the message says which.
set -eu

SECONDS_BUSY=${1:-20}
GPU=${2:-0}
PY=${PYTHON:-python3}
if [ -n "${WATTPRINT:-}" ]; then WP=$WATTPRINT
elif [ -x build-dev/wattprint ]; then WP=build-dev/wattprint
elif [ -x build/wattprint ]; then WP=build/wattprint
else WP=$(command -v wattprint || true); fi
[ -n "$WP" ] || { echo "check.sh: no wattprint binary (set WATTPRINT=...)" >&2; exit 1; }
command -v "$PY" >/dev/null || { echo "check.sh: no $PY" >&2; exit 77; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# NVML's counter in mJ for GPU $GPU, through ctypes.
cat > "$TMP/nvml_energy.py" <<'PYEOF'
import ctypes, sys
try:
    lib = ctypes.CDLL("libnvidia-ml.so.1")
except OSError as e:
    print(f"no NVML: {e}", file=sys.stderr); sys.exit(77)
if lib.nvmlInit_v2() != 0:
    print("nvmlInit failed", file=sys.stderr); sys.exit(77)
dev = ctypes.c_void_p()
if lib.nvmlDeviceGetHandleByIndex_v2(ctypes.c_uint(int(sys.argv[1])), ctypes.byref(dev)) != 0:
    print(f"no GPU {sys.argv[1]}", file=sys.stderr); sys.exit(77)
mj = ctypes.c_ulonglong()
rc = lib.nvmlDeviceGetTotalEnergyConsumption(dev, ctypes.byref(mj))
if rc != 0:
    print(f"nvmlDeviceGetTotalEnergyConsumption returned {rc} (3 = not supported: pre-Volta GPU)", file=sys.stderr)
    sys.exit(77)
print(mj.value)
lib.nvmlShutdown()
PYEOF

# The workload: matrix products on the GPU for SECONDS_BUSY seconds.
cat > "$TMP/busy.py" <<'PYEOF'
import sys, time
secs = float(sys.argv[1])
try:
    import torch
    assert torch.cuda.is_available(), "torch without CUDA"
    a = torch.randn(8192, 8192, device="cuda"); b = torch.randn(8192, 8192, device="cuda")
    sync, mm, lib = torch.cuda.synchronize, torch.matmul, "torch " + torch.__version__
except Exception as e:
    try:
        import cupy
        a = cupy.random.rand(8192, 8192, dtype=cupy.float32); b = cupy.random.rand(8192, 8192, dtype=cupy.float32)
        sync, mm, lib = cupy.cuda.Device().synchronize, cupy.matmul, "cupy " + cupy.__version__
    except Exception as e2:
        print(f"no GPU workload: torch ({e}) and cupy ({e2}) unavailable; install one of them", file=sys.stderr)
        sys.exit(77)
print(f"workload: {lib}, {secs} s of 8192x8192 matmuls", file=sys.stderr)
end = time.time() + secs
while time.time() < end:
    for _ in range(10): c = mm(a, b)
    sync()
PYEOF

"$PY" "$TMP/busy.py" 0 || exit $?   # fails fast (77) when no workload library exists
E0=$("$PY" "$TMP/nvml_energy.py" "$GPU") || exit $?
"$WP" run --gpu-ids "$GPU" --no-save --quiet --json "$TMP/run.json" -- "$PY" "$TMP/busy.py" "$SECONDS_BUSY"
E1=$("$PY" "$TMP/nvml_energy.py" "$GPU")

"$PY" - "$TMP/run.json" "$E0" "$E1" <<'PYEOF'
import json, sys
run = json.load(open(sys.argv[1]))
gpus = run["gpus"]
if not gpus or gpus[0]["machine"] is None:
    print("wattprint measured no GPU energy:", [s["reason"] for s in run["sources"] if s["name"] == "nvml"])
    sys.exit(1)
g = gpus[0]
wp = g["machine"]["j"]
nvml = (int(sys.argv[3]) - int(sys.argv[2])) / 1000.0
print(f"GPU {g['index']} {g['name']} ({g['uuid']}), method {g['method']}")
print(f"wattprint: {wp:.3f} J over {run['duration_s']:.3f} s")
print(f"NVML     : {nvml:.3f} J (counter read before and after wattprint)")
print(f"NVML - wattprint: {nvml - wp:.3f} J ({(nvml - wp) / nvml * 100 if nvml else float('nan'):.2f} % of NVML)")
PYEOF
