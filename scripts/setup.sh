#!/usr/bin/env bash
# Installs what vernat needs, once, on a fresh Debian machine (as root):
# Debian packages, a virtual environment in .venv, and the pip packages.
# Re-running it is cheap: it only acts when something is missing or
# pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
if ! command -v python3 >/dev/null; then
    apt_packages+=(python3)
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_packages+=(python3-venv)
fi
# What `vernat run` needs (README, "Dependencies"): each command or file is
# checked, and its Debian package installed only when it is missing.
live_needs=(
    "ip:iproute2" "nft:nftables" "clang:clang" "llc:llvm" "ethtool:ethtool"
    "/usr/include/bpf/libbpf.h:libbpf-dev" "/usr/include/xdp/xsk.h:libxdp-dev"
    "xdp-loader:xdp-tools" "iperf3:iperf3" "dnsmasq:dnsmasq-base"
    "turnserver:coturn" "curl:curl"
)
for need in "${live_needs[@]}"; do
    what=${need%%:*} package=${need#*:}
    if [[ $what == /* ]]; then
        [ -e "$what" ] || apt_packages+=("$package")
    elif ! command -v "$what" >/dev/null && ! [ -x "/usr/sbin/$what" ]; then
        apt_packages+=("$package")
    fi
done
if ((${#apt_packages[@]})); then
    echo "setup: installing Debian packages: ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: vernat needs Python >= 3.11 (found $(python3 --version 2>&1))" >&2
    exit 1
fi

stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "setup: creating .venv and installing Python packages (first run only)"
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[test]'
    touch "$stamp"
fi
