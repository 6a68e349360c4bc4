#!/usr/bin/env bash
# Installs what Tributary needs on Debian/Ubuntu, skipping what is already there. Safe to run repeatedly.
# Sourced by the other scripts. Before sourcing, `setup_python=no` skips what only the tests and benchmarks need
# (the Python venv with bullmq, systemd-analyze, PyYAML), and `setup_swift=no` does not require a Swift toolchain (installing a prebuilt binary).
set -euo pipefail
setup_python="${setup_python:-yes}"
setup_swift="${setup_swift:-yes}"

packages=(libhiredis-dev libjansson-dev redis-server redis-tools pkg-config openssl)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# The tests also check the deployment recipes: systemd-analyze (systemd) and PyYAML (python3-yaml), and load the
# dashboard in headless Chromium (chromium).
if [ "$setup_python" = yes ]; then
    for package in systemd python3-yaml chromium; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
fi
# The Python interop peer (Tests/TributaryTests/Python) needs `python3 -m venv`, which Debian ships separately.
venv_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv"
bullmq_pin="3.4.4"
venv_ready() {
    [ "$("$venv_dir/bin/python" -I -c 'from importlib.metadata import version; print(version("bullmq"))' 2>/dev/null)" = "$bullmq_pin" ]
}
if [ "$setup_python" = yes ] && ! venv_ready && ! python3 -I -c 'import ensurepip, venv' >/dev/null 2>&1; then
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    missing+=(python3-venv)
fi
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
        [ -x "$candidate/swift" ] && export PATH="$candidate:$PATH"
    done
fi
[ "$setup_swift" = no ] || command -v swift >/dev/null 2>&1 || { echo "setup: Swift 6 is required (https://www.swift.org/install/linux/)" >&2; exit 1; }

if [ "$setup_python" = yes ] && ! venv_ready; then
    echo "setup: creating .venv with bullmq==$bullmq_pin"
    venv_log="$(mktemp)"
    if ! { python3 -m venv --clear "$venv_dir" && "$venv_dir/bin/pip" install --quiet "bullmq==$bullmq_pin"; } >"$venv_log" 2>&1 \
        || ! venv_ready; then
        cat "$venv_log" >&2
        rm -f "$venv_log"
        echo "setup: could not install bullmq==$bullmq_pin into $venv_dir" >&2
        exit 1
    fi
    rm -f "$venv_log"
fi
# The encrypted-fields interop test runs the Python snippet of docs/production.md, which needs `cryptography`.
cryptography_pin="48.0.0"
if [ "$setup_python" = yes ] && [ "$("$venv_dir/bin/python" -I -c 'from importlib.metadata import version; print(version("cryptography"))' 2>/dev/null)" != "$cryptography_pin" ]; then
    echo "setup: installing cryptography==$cryptography_pin into .venv"
    "$venv_dir/bin/pip" install --quiet "cryptography==$cryptography_pin" \
        || { echo "setup: could not install cryptography==$cryptography_pin into $venv_dir" >&2; exit 1; }
fi
# The dashboard's browser tests drive Chromium through the DevTools protocol (Tests/TributaryTests/Python/browser.py).
websocket_pin="1.9.2"
if [ "$setup_python" = yes ] && [ "$("$venv_dir/bin/python" -I -c 'from importlib.metadata import version; print(version("websocket-client"))' 2>/dev/null)" != "$websocket_pin" ]; then
    echo "setup: installing websocket-client==$websocket_pin into .venv"
    "$venv_dir/bin/pip" install --quiet "websocket-client==$websocket_pin" \
        || { echo "setup: could not install websocket-client==$websocket_pin into $venv_dir" >&2; exit 1; }
fi
unset -f venv_ready
unset venv_dir bullmq_pin venv_log setup_python setup_swift cryptography_pin websocket_pin
