#!/usr/bin/env bash
# Runs HERE (the machine with .NET): publishes the self-contained dataset renderer (tools/EdgeSeg.Render)
# into models/training/gpu/bin/ (git-ignored), checks it against the .NET CLI on a few frames, and
# prints the one `run` call that trains on the GPU machine (README.md, "Training on a GPU machine").
#   models/training/gpu/prepare.sh [MINUTES]      (MINUTES of training on the device, default 6)
#
# linux-x64 (the GPU machine's processor): NativeAOT, one 1.8 MB executable needing only libc and libm.
# The working tree travels with the carried files under a limit of 64 MiB, and the tree alone is some
# 55 MiB (the shipped models), so nothing bigger fits. linux-arm64 (NO_ARM64=1 skips it): a trimmed,
# compressed single-file build (12 MB; NativeAOT cannot cross-compile here), for the record only, since
# with the tree it would not fit under that limit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
minutes=${1:-6}
cd "$root"
common=(-c Release -v quiet -nologo -clp:ErrorsOnly -p:DebugType=none -p:DebugSymbols=false)
rm -rf "$here/bin/linux-x64"
linker=()
command -v clang >/dev/null || linker=(-p:CppCompilerAndLinker=gcc)
nice -n 10 dotnet publish tools/EdgeSeg.Render "${common[@]}" -r linux-x64 -p:PublishAot=true -p:StripSymbols=true \
  "${linker[@]}" -o "$here/bin/linux-x64"
if [[ -z ${NO_ARM64:-} ]]; then
  rm -rf "$here/bin/linux-arm64"
  nice -n 10 dotnet publish tools/EdgeSeg.Render "${common[@]}" -r linux-arm64 --self-contained \
    -p:PublishSingleFile=true -p:PublishTrimmed=true -p:EnableCompressionInSingleFile=true -o "$here/bin/linux-arm64"
fi
rm -f "$here"/bin/*/*.pdb "$here"/bin/*/*.dbg
for d in "$here"/bin/*/; do echo "prepare.sh: $(du -b "$d/edgeseg-render" | cut -f1) bytes  ${d#$root/}edgeseg-render"; done

# What travels: the tracked and untracked-not-ignored files plus the carried folder, 64 MiB at most.
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
carry=$(du -sb "$here/bin/linux-x64" | cut -f1)
total=$(( (tree + carry) / 1048576 ))
echo "prepare.sh: working tree $((tree / 1048576)) MiB + carried $((carry / 1024)) KiB = $total MiB (limit 64)"
(( total < 64 )) || echo "prepare.sh: WARNING: over the run tool's limit of 64 MiB"

# The published renderer against the .NET CLI's PNG files (8 frames of the validation seed), when built.
cli=src/EdgeSeg.Service/bin/Release/net10.0/edgeseg.dll
if [[ -f $cli && $(uname -m) == x86_64 ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  nice -n 10 dotnet "$cli" dataset render --count 8 --size 512x256 --seed 9001 --out "$tmp/png" >/dev/null
  nice -n 10 "$here/bin/linux-x64/edgeseg-render" --count 8 --size 512x256 --seed 9001 --out "$tmp/npy" >/dev/null
  /usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "models/training")
import common
a, al = common.load_split(sys.argv[1] + "/png", cache=False)
b, bl = np.load(sys.argv[1] + "/npy/images.npy"), np.load(sys.argv[1] + "/npy/labels.npy")
same = a.shape == b.shape and (a == b).all() and (al == bl).all()
print(f"prepare.sh: edgeseg-render against 'edgeseg dataset render', 8 frames of seed 9001: {'byte-identical' if same else 'DIFFERENT'}")
sys.exit(0 if same else 1)
PY
else
  echo "prepare.sh: src/EdgeSeg.Service is not built (dotnet build src/EdgeSeg.Service -c Release): the renderer was not compared with it"
fi

# The training seed, by continue.sh's rule: one more than both this machine's last run
# ($EDGESEG_TRAINING/last_seed) and the shipped manifest's Training.DatasetSeeds.
state=${EDGESEG_TRAINING:-$HOME/edgeseg-training}
shipped_seed=$(/usr/bin/python3 -c "import json; print(max(json.load(open('models/deeplabv3_mnv3_street_512x256.json'))['Training'].get('DatasetSeeds', [1])))")
last_seed=$(cat "$state/last_seed" 2>/dev/null || echo 0)
seed=$(( (last_seed > shipped_seed ? last_seed : shipped_seed) + 1 ))

cat <<EOT

The GPU run (one call of the session's run tool, from the repository root; training seed $seed):
  command:   bash models/training/gpu/device.sh $minutes $seed
  carry:     ["models/training/gpu/bin/linux-x64"]
  timeout_s: 590
Its files come back under files_at (\$OUT): the export in parts (.onnx.part-a, -b, -c), its manifest (.json),
val.json, shipped_val.json, train.log, device.log (README.md says how to bring the model in).
EOT
