#!/usr/bin/env bash
# Stops and removes the EdgeSeg service and its files. Keeps /etc/edgeseg (and the spool in
# /var/lib/edgeseg) unless --purge is given.  --root DIR: remove a staged install (see install.sh).
set -euo pipefail
root=
purge=
while [[ $# -gt 0 ]]; do
  case $1 in
    --root) root=$(realpath -m "${2:?--root needs a directory}"); shift 2 ;;
    --purge) purge=1; shift ;;
    *) echo "uninstall.sh: unknown argument '$1' (usage: uninstall.sh [--root DIR] [--purge])" >&2; exit 64 ;;
  esac
done
prefix=$root${EDGESEG_PREFIX:-/opt/edgeseg}
if [[ -z $root ]]; then
  [[ $EUID -eq 0 ]] || { echo "uninstall.sh: run as root" >&2; exit 1; }
  systemctl disable --now edgeseg 2>/dev/null || true
fi
rm -f "$root/etc/systemd/system/edgeseg.service"
[[ -z $root ]] && systemctl daemon-reload
rm -rf "$prefix" "$root/var/cache/edgeseg"
if [[ -n $purge ]]; then
  rm -rf "$root/etc/edgeseg" "$root/var/lib/edgeseg"
  [[ -z $root ]] && { userdel edgeseg 2>/dev/null || true; }
fi
# Folders the install created and that are now empty go too (a staged root is left as it was found).
for dir in "$root/etc/systemd/system" "$root/etc/systemd" "$root/opt"; do
  [[ -n $root && -d $dir ]] && rmdir --ignore-fail-on-non-empty "$dir"
done
echo "EdgeSeg removed${purge:+ (purged)}${root:+ from $root}."
[[ -z $root ]] && { systemctl --no-pager status edgeseg || true; }
exit 0
