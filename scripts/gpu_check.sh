#!/usr/bin/env bash
# The learner's GPU checks on a GPU box without ROS or EGL (Python with CUDA torch, numpy,
# safetensors, pyyaml, pytest): the CUDA-graph tests, then `rlif bench learner --json`
# (every update variant and the training step at UTD 20 sampled from a real replay store).
# Packages the box lacks (zarr, mujoco, gymnasium and their needs) go in .whl/ as wheels:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 ... -d .whl
# Results land in $OUT (default gpu-out/): gpu.txt, pytest.log, bench_learner.json.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/rlif-site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/rlif-site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"
python3 -m pytest -q -p no:cacheprovider tests/learner/test_sac_cuda.py tests/learner/test_sac_numerics.py \
    tests/learner/test_bench_learner.py 2>&1 | tee "$OUT/pytest.log"
tests_rc=${PIPESTATUS[0]}
python3 -m robot_stack.cli.main bench learner --json 2>"$OUT/bench_learner.err" | tee "$OUT/bench_learner.json"
bench_rc=${PIPESTATUS[0]}
tail -20 "$OUT/bench_learner.err"
echo "tests rc $tests_rc, bench rc $bench_rc"
exit $(( tests_rc || bench_rc ))
