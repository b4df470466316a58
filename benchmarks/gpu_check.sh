#!/usr/bin/env bash
# The GPU check, one script, about 8 minutes on one H100/H200:
#   1. the sharding and training tests, on the GPU;
#   2. step_time.py: ms/step, images/s and MFU (XLA's FLOP count / the device's peak) of
#      ResNet-20, ResNet-18 and VGG-16-BN at 64x64 in float32, and ResNet-18 in bfloat16
#      (config.model.compute_dtype, against the bfloat16 peak);
#   3. maxl_step.py (jaxprior's MAXL step vs its single-task step and PyTorch's);
#   4. seed_parallel.py (seed-runs per hour: one seed at a time against 4 seeds vmapped
#      in one program).
# Writes benchmarks/results/*_gpu.md (or into $1). Needs the wheels of
# benchmarks/gpu_wheels.sh in .gpu_wheels/ when the machine cannot reach PyPI.
#   bash benchmarks/gpu_check.sh [OUT_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/results}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ -d .gpu_wheels ]; then
  $PY -m pip install --quiet --no-index --no-deps .gpu_wheels/*.whl || exit 1
fi
$PY -c "import jax; print(jax.devices()); assert jax.default_backend() == 'gpu'" || exit 1
status=0
step() {  # name, time limit (s), command...
  local name=$1 limit=$2; shift 2
  echo "== $name"
  timeout "$limit" "$@" || { echo "!! $name failed or ran past ${limit}s"; status=1; }
}
step tests 180 $PY -m pytest -q -p no:cacheprovider -n 0 tests/test_train.py \
  tests/test_parallel_runs.py tests/test_prior_plugins.py tests/test_seed_group.py \
  -k "devices or trajectory or killed or vmapped_group_matches"
step step_time 120 $PY benchmarks/step_time.py --models resnet20,resnet18,vgg16_bn --sizes 64 \
  --batch 128 --steps 20 --warmup 3 --no-xla-baseline --out "$OUT/step_time_gpu.md"
step step_time_bf16 90 $PY benchmarks/step_time.py --models resnet18 --sizes 64 --batch 128 \
  --steps 20 --warmup 3 --no-xla-baseline --dtype bfloat16 --out "$OUT/step_time_bf16_gpu.md"
step maxl_step 90 $PY benchmarks/maxl_step.py --steps 20 --warmup 3 --out "$OUT/maxl_step_gpu.md"
step seed_parallel 150 $PY benchmarks/seed_parallel.py --steps 100 --seeds 4 \
  --rows "sequential + cache,vmapped" --out "$OUT/seed_parallel_gpu.md"
exit $status
