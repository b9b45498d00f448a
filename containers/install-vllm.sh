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
. "$ctx/containers/install-common.sh"
install_extra_cas
pip="$venv/bin/python -m pip install --no-cache-dir --quiet"
make_venv python python3
# vLLM pins its own CUDA torch; install it first so the workflow's other dependencies fit it
$pip "$ctx[vllm]" "$snakemake_spec"
chmod -R a+rX "$venv"
"$venv/bin/python" -I -c "import vllm, kodcode.stages.generate, snakemake, httpx, yaml; print('vllm', vllm.__version__)"
rm -rf /root/.cache
