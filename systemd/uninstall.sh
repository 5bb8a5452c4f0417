#!/usr/bin/env bash
# Stops and removes the EdgeSeg service and its files. Keeps /etc/edgeseg unless --purge is given.
set -euo pipefail
prefix=${EDGESEG_PREFIX:-/opt/edgeseg}
[[ $EUID -eq 0 ]] || { echo "uninstall.sh: run as root" >&2; exit 1; }
systemctl disable --now edgeseg 2>/dev/null || true
rm -f /etc/systemd/system/edgeseg.service
systemctl daemon-reload
rm -rf "$prefix" /var/cache/edgeseg
if [[ ${1:-} == --purge ]]; then
  rm -rf /etc/edgeseg /var/lib/edgeseg
  userdel edgeseg 2>/dev/null || true
fi
echo "EdgeSeg removed${1:+ (purged)}."
