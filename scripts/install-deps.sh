#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages EdgeSeg needs, by name. Usage: scripts/install-deps.sh [run|test]
#   run:  what the demo needs (OpenCV's native runtime loads GTK's libraries); systemd/install.sh adds ffmpeg for network cameras
#   test: also a real MQTT broker, ffmpeg, an RTSP server (GStreamer's, driven from Python),
#         systemd-analyze and a headless Chromium for the integration tests
set -euo pipefail
what=${1:-run}
packages=(libgtk-3-0)
if [[ $what == test ]]; then
  packages+=(mosquitto mosquitto-clients ffmpeg systemd openssl python3-paho-mqtt)
  # tests/EdgeSeg.Service.Tests/Http: the HTTP endpoint's page, loaded in a real headless browser.
  packages+=(chromium)
  # tests/fixtures/rtsp_server.py: GstRtspServer from Python; videotestsrc and videoconvert (base),
  # rtph264pay and rtpbin (good), x264enc (ugly); gst-launch-1.0 (tools) for gst:// cameras.
  packages+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-ugly)
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
