#!/usr/bin/env bash
# Installs EdgeSeg as a systemd service: publishes the service to /opt/edgeseg, creates the 'edgeseg'
# system user, puts an example configuration in /etc/edgeseg (never overwriting one that exists, so an
# upgrade keeps it) and enables the unit. Run as root from a checkout:  sudo systemd/install.sh
#
#   --root DIR        install into a staging root instead (DIR/opt/edgeseg, DIR/etc/…): no user is created,
#                     no package installed, systemd is not touched; for packaging and for the tests
#   --rid RID         publish for linux-x64 or linux-arm64 (default: this machine's), e.g. to stage an
#                     image for a Jetson on an x64 build machine
#   --self-contained  carry the .NET runtime in /opt/edgeseg (the target needs no .NET installed);
#                     default: framework-dependent (the target has the ASP.NET Core runtime 10)
#
# Files it writes: $root/opt/edgeseg/ (the published service, models/ with the bundled models),
# $root/etc/edgeseg/edgeseg.json (only if absent), $root/etc/systemd/system/edgeseg.service.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
root=
rid=linux-x64
[[ $(uname -m) == aarch64 ]] && rid=linux-arm64
self_contained=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --root) root=$(realpath -m "${2:?--root needs a directory}"); shift 2 ;;
    --rid)
      rid=${2:?--rid needs linux-x64 or linux-arm64}; shift 2
      [[ $rid == linux-x64 || $rid == linux-arm64 ]] || { echo "install.sh: --rid must be linux-x64 or linux-arm64, got '$rid'" >&2; exit 64; } ;;
    --self-contained) self_contained=true; shift ;;
    *) echo "install.sh: unknown argument '$1' (usage: install.sh [--root DIR] [--rid linux-x64|linux-arm64] [--self-contained])" >&2; exit 64 ;;
  esac
done
prefix=$root${EDGESEG_PREFIX:-/opt/edgeseg}

if [[ -z $root && $EUID -ne 0 ]]; then
  echo "install.sh: run as root (sudo $0), or give --root DIR to stage an install" >&2
  exit 1
fi

command -v dotnet >/dev/null || { echo "install.sh: the .NET SDK is needed to publish (dotnet not found)" >&2; exit 1; }
# OpenCV's native runtime needs GTK's libraries even headless.
if [[ -z $root ]] && command -v apt-get >/dev/null; then
  apt-get install -y --no-install-recommends libgtk-3-0 ffmpeg >/dev/null
fi

# EDGESEG_ORT picks ONNX Runtime's native libraries: cpu (default), gpu (x64 CUDA/TensorRT package) or
# system (a build of your own, e.g. with TensorRT on a Jetson: copy its .so files into $prefix afterwards).
# An upgrade replaces the published files: what an earlier version left is removed first.
rm -rf "$prefix"
dotnet publish "$repo/src/EdgeSeg.Service/EdgeSeg.Service.csproj" -c Release -r "$rid" --self-contained "$self_contained" \
  -p:OnnxRuntimeNative="${EDGESEG_ORT:-cpu}" -o "$prefix" -v quiet -nologo

if [[ -z $root ]]; then
  id edgeseg >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin edgeseg
  for g in video render; do getent group "$g" >/dev/null && usermod -aG "$g" edgeseg; done
fi

install -d -m 0755 "$root/etc/edgeseg"
if [[ ! -f $root/etc/edgeseg/edgeseg.json ]]; then
  if [[ -z $root ]]; then
    install -m 0640 -g edgeseg "$here/edgeseg.json" /etc/edgeseg/edgeseg.json
  else
    install -m 0640 "$here/edgeseg.json" "$root/etc/edgeseg/edgeseg.json"
  fi
  echo "Wrote $root/etc/edgeseg/edgeseg.json: edit DeviceId, Cameras and Mqtt, then: systemctl restart edgeseg"
fi

install -d -m 0755 "$root/etc/systemd/system"
install -m 0644 "$here/edgeseg.service" "$root/etc/systemd/system/edgeseg.service"
if [[ -z $root ]]; then
  systemctl daemon-reload
  systemctl enable --now edgeseg
  systemctl --no-pager status edgeseg || true
else
  echo "Staged in $root (no user created, systemd untouched)."
fi
