#!/bin/sh
# Installs the vLLM generation environment inside an image build; the build steps that
# containers/Dockerfile.vllm and containers/vllm.def both run. The package list is the
# workflow's own `vllm` extra (pyproject.toml), the same one envs/vllm.yaml installs.
# Usage: install-vllm.sh SNAKEMAKE_SPEC   (context at /opt/kodcode/build, see install-test-env.sh)
set -eu
snakemake_spec=$1
ctx=/opt/kodcode/build
venv=/opt/venv

command -v update-ca-certificates >/dev/null 2>&1 || {
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates
    rm -rf /var/lib/apt/lists/*
}
if ls "$ctx"/ca/*.crt >/dev/null 2>&1; then
    mkdir -p /usr/local/share/ca-certificates/kodcode-build
    cp "$ctx"/ca/*.crt /usr/local/share/ca-certificates/kodcode-build/
    update-ca-certificates >/dev/null
fi
export PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
pip="$venv/bin/python -m pip install --no-cache-dir --quiet"

python="$(readlink -f "$(command -v python3)")"
"$python" -m venv "$venv"
for exe in python python3; do ln -sf "$venv/bin/$exe" "/usr/local/bin/$exe"; done
# vLLM pins its own CUDA torch; install it first so the workflow's other dependencies fit it
$pip "$ctx[vllm]" "$snakemake_spec"
chmod -R a+rX "$venv"
"$venv/bin/python" -I -c "import vllm, kodcode.stages.generate, snakemake, httpx, yaml; print('vllm', vllm.__version__)"
rm -rf /root/.cache
