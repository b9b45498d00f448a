# Sourced by install-test-env.sh and install-vllm.sh (inside an image build, as root, with
# $ctx = the build context and $venv = the venv to make): the steps both images share.

# The build's extra CAs into the trust store: public certificates (no keys), so they may stay
# in the image; pip then trusts the proxy the registries are reached through.
install_extra_cas() {
    if ls "$ctx"/ca/*.crt >/dev/null 2>&1; then
        mkdir -p /usr/local/share/ca-certificates/kodcode-build
        cp "$ctx"/ca/*.crt /usr/local/share/ca-certificates/kodcode-build/
        update-ca-certificates >/dev/null
    fi
    export PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
}

# One venv from the system python3; its commands named in "$@" also on the default PATH.
make_venv() {
    python="$(readlink -f "$(command -v python3)")"
    "$python" -m venv "$venv"
    for exe in "$@"; do ln -sf "$venv/bin/$exe" "/usr/local/bin/$exe"; done
}
