#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages EdgeSeg needs, by name. Usage: scripts/install-deps.sh [run|test]
#   run:  what the service and the demo need (OpenCV's native runtime loads GTK's libraries)
#   test: also a real MQTT broker, ffmpeg and systemd-analyze for the integration tests
set -euo pipefail
what=${1:-run}
packages=(libgtk-3-0)
if [[ $what == test ]]; then
  packages+=(mosquitto mosquitto-clients ffmpeg systemd)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "install-deps: missing packages ${missing[*]} and no root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a system-wide broker on 1883; the tests start their own on free ports.
