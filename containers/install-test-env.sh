#!/bin/sh
# Installs the test environment inside an image build; the one set of build steps that
# containers/Dockerfile.test-env and containers/test-env.def both run, so the two images
# cannot drift. Runs as root from the build context copied to /opt/kodcode/build (laid out
# by containers/build):
#   envs/test-env.txt             the package list (containers/requirements.py picks a variant)
#   containers/requirements.py    that picker
#   pyproject.toml README.md src/ the workflow's own package (rules run inside the image under
#                                 snakemake --sdm apptainer)
#   ca/*.crt                      extra CA certificates the build machine's proxy needs (optional)
#   wheels/torch-*.whl            a local torch wheel to install instead of downloading (optional)
# Usage: install-test-env.sh VARIANT TORCH_INDEX SNAKEMAKE_SPEC
set -eu
variant=$1
torch_index=$2
snakemake_spec=$3
ctx=/opt/kodcode/build
venv=/opt/venv

# system packages the base may lack: bubblewrap (engine bwrap inside the image), a venv-capable
# python, the CA tools (Debian's mirror is plain http, so apt needs no extra CA)
need=""
command -v bwrap >/dev/null 2>&1 || need="$need bubblewrap"
python3 -c "import ensurepip" >/dev/null 2>&1 || need="$need python3-venv"
command -v update-ca-certificates >/dev/null 2>&1 || need="$need ca-certificates"
if [ -n "$need" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
    rm -rf /var/lib/apt/lists/*
fi

. "$ctx/containers/install-common.sh"
install_extra_cas
pip="$venv/bin/python -m pip install --no-cache-dir --quiet"
# one venv; its python is also `python`/`python3` on the default PATH, which attempts get
make_venv python python3 pytest

torch=$(python3 "$ctx/containers/requirements.py" "$variant" "$ctx/envs/test-env.txt" --torch)
if [ -n "$torch" ]; then
    wheel=$(ls "$ctx"/wheels/torch-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$wheel" ]; then
        $pip "$wheel"
    elif [ "$variant" = cpu ]; then
        $pip --index-url "$torch_index" --extra-index-url https://pypi.org/simple "$torch"
    else
        $pip "$torch"
    fi
fi
python3 "$ctx/containers/requirements.py" "$variant" "$ctx/envs/test-env.txt" >/tmp/requirements.txt
$pip -r /tmp/requirements.txt
# the workflow's package and what its executing and generating rules import (not its heavy
# dependencies: those rules need none of them)
$pip "$snakemake_spec" "pyyaml>=6.0" "httpx>=0.27"
$pip --no-deps "$ctx"

# keras 3 defaults to the tensorflow backend, which no variant has; attempts start with a
# clean environment (no KERAS_BACKEND), so the image's default becomes torch
keras_config=$("$venv/bin/python" -c "import importlib.util as u; s = u.find_spec('keras'); print(s.submodule_search_locations[0] + '/src/backend/config.py' if s else '')")
if [ -n "$keras_config" ]; then
    sed -i 's/^_BACKEND = "tensorflow"$/_BACKEND = "torch"/' "$keras_config"
fi

# the worker folder, run as `python -I /opt/kodcode-executor` (engines mount the host's copy over it)
rm -rf /opt/kodcode-executor
cp -r "$ctx/src/kodcode/executor/worker" /opt/kodcode-executor
find /opt/kodcode-executor -name __pycache__ -prune -exec rm -rf {} +
chmod -R a+rX /opt/kodcode-executor "$venv"

# the image must import everything it lists, as an attempt would (clean environment, -I)
modules=$(python3 "$ctx/containers/requirements.py" "$variant" "$ctx/envs/test-env.txt" --modules)
env -i PATH=/usr/local/bin:/usr/bin:/bin MPLBACKEND=Agg "$venv/bin/python" -I - $modules <<'PY'
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
if "keras" in sys.argv[1:]:
    import keras
    assert keras.backend.backend() == "torch", keras.backend.backend()
import kodcode.executor.engines, snakemake, yaml, httpx  # noqa: E401 - rules running in the image
print("test-env image imports:", len(sys.argv) - 1, "packages")
PY
bwrap --version
# nothing of root's in the image (attempts check that homes are empty)
rm -rf /tmp/requirements.txt
find /root -mindepth 1 -delete
chmod 0755 /root
