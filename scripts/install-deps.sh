#!/usr/bin/env bash
# Installs the Debian packages nestlab needs, only those missing.
# Run as root (or with sudo available). Safe to run again and again.
set -euo pipefail

packages=(
	build-essential make gcc pkg-config
	libxml2-dev libxml2-utils libjansson-dev libcunit1-dev
	bochs bochsbios vgabios
	grub-pc-bin grub-common xorriso mtools
	qemu-system-x86 jq
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "nestlab: installing missing packages: ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
	sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
