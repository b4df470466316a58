#!/usr/bin/env bash
# Downloads, on a machine with PyPI, the wheels jaxprior needs beyond what the GPU
# machine's image holds (JAX, flax, optax, orbax, scipy, matplotlib, tqdm are there), for
# its Python 3.12 on x86-64, into .gpu_wheels/ (git-ignored): carry that folder to the
# GPU machine and run benchmarks/gpu_check.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 --dest .gpu_wheels \
  tensorflow-datasets array-record grain ml-collections pycocotools importlib-resources \
  dm-tree immutabledict simple-parsing docstring-parser tensorflow-metadata \
  termcolor toml googleapis-common-protos
du -sh .gpu_wheels
