#!/usr/bin/env bash
# Installs EdgeSeg as a systemd service: publishes the service to /opt/edgeseg, creates the 'edgeseg'
# system user, puts an example configuration in /etc/edgeseg (never overwriting one that exists) and
# enables the unit. Run as root from a checkout:  sudo systemd/install.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
prefix=${EDGESEG_PREFIX:-/opt/edgeseg}

if [[ $EUID -ne 0 ]]; then
  echo "install.sh: run as root (sudo $0)" >&2
  exit 1
fi

command -v dotnet >/dev/null || { echo "install.sh: the .NET SDK is needed to publish (dotnet not found)" >&2; exit 1; }
# OpenCV's native runtime needs GTK's libraries even headless.
if command -v apt-get >/dev/null; then
  apt-get install -y --no-install-recommends libgtk-3-0 ffmpeg >/dev/null
fi

rid=linux-x64
[[ $(uname -m) == aarch64 ]] && rid=linux-arm64
# EDGESEG_ORT picks ONNX Runtime's native libraries: cpu (default), gpu (x64 CUDA/TensorRT package) or
# system (a build of your own, e.g. with TensorRT on a Jetson: copy its .so files into $prefix afterwards).
dotnet publish "$repo/src/EdgeSeg.Service/EdgeSeg.Service.csproj" -c Release -r "$rid" --self-contained false \
  -p:OnnxRuntimeNative="${EDGESEG_ORT:-cpu}" -o "$prefix"

id edgeseg >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin edgeseg
for g in video render; do getent group "$g" >/dev/null && usermod -aG "$g" edgeseg; done

install -d -m 0755 /etc/edgeseg
if [[ ! -f /etc/edgeseg/edgeseg.json ]]; then
  install -m 0640 -g edgeseg "$here/edgeseg.json" /etc/edgeseg/edgeseg.json
  echo "Wrote /etc/edgeseg/edgeseg.json: edit DeviceId, Cameras and Mqtt, then: systemctl restart edgeseg"
fi

install -m 0644 "$here/edgeseg.service" /etc/systemd/system/edgeseg.service
systemctl daemon-reload
systemctl enable --now edgeseg
systemctl --no-pager status edgeseg || true
