#!/usr/bin/env bash
# One training run of the plan in README.md, end to end, safe to interrupt:
#   models/training/continue.sh [MINUTES]        (default 120; from the repository root or anywhere)
#
# 1. builds the renderer and renders a NEW training set (a seed no earlier run used) plus the fixed
#    validation and held-out sets;
# 2. continues the plan from the last checkpoint in $EDGESEG_TRAINING (outside the repository), or,
#    when that is gone, rebuilds a checkpoint from the shipped model (from_onnx.py) and starts the plan;
# 3. stops after MINUTES (or on SIGTERM), keeps the checkpoint, re-estimates BatchNorm, exports, and
#    folds a per-class logit bias fitted on the validation frames into the export (class_bias.py);
# 4. evaluates the new export and the shipped model on the validation frames and, only if the new one is
#    better there, copies it into models/ and quantizes it again (models/quantize.sh); the new export's
#    held-out figures are printed for the record, never used to choose.
# Committing the result, with the card updated, is left to the person running it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
minutes=${1:-120}
state=${EDGESEG_TRAINING:-$HOME/edgeseg-training}
python=/usr/bin/python3
mkdir -p "$state"
cd "$root"
dotnet build src/EdgeSeg.Service -c Release -v quiet -nologo -clp:ErrorsOnly
edgeseg=(dotnet src/EdgeSeg.Service/bin/Release/net10.0/edgeseg.dll)

# A plan that has run to its end is not continued: a new one has to be chosen (README, "Training on a GPU machine").
if [[ -f $state/street/last.pt ]]; then
  finished=$(cd "$here" && $python -c "import sys, common; c = common.load_checkpoint(sys.argv[1]); print(int(c['plan_iteration'] >= c['plan']['iterations']))" "$state/street/last.pt")
  if [[ $finished == 1 ]]; then
    echo "continue.sh: the plan in $state/street/last.pt has run to its end; start a new one (models/training/gpu/device.sh on a GPU machine, or train.py --init CHECKPOINT --new-plan --plan-iterations N)"
    exit 0
  fi
fi

# A new training seed per run: one more than the last one used, by a run on this machine ($state/last_seed)
# or by any run the shipped model was trained on (its manifest's Training.DatasetSeeds; seed 1 trained the
# encoder-only releases), so a fresh machine never renders a set that trained the model again.
shipped_seed=$($python -c "import json; print(max(json.load(open('models/deeplabv3_mnv3_street_512x256.json'))['Training'].get('DatasetSeeds', [1])))")
last_seed=$(cat "$state/last_seed" 2>/dev/null || echo 0)
seed=$(( (last_seed > shipped_seed ? last_seed : shipped_seed) + 1 ))
data=models/training/data
[[ -d $data/val ]] || "${edgeseg[@]}" dataset render --count 300 --size 512x256 --seed 9001 --out $data/val
[[ -d $data/heldout ]] || "${edgeseg[@]}" dataset render --count 300 --size 512x256 --seed 424242 --out $data/heldout
# A set rendered completely at this seed (an earlier attempt of this run) is kept; a partial one is redone.
if [[ ! -f $data/train$seed/.rendered ]]; then
  rm -rf "$data/train$seed"
  "${edgeseg[@]}" dataset render --count 16000 --size 512x256 --seed "$seed" --out "$data/train$seed"
  touch "$data/train$seed/.rendered"
fi
echo "$seed" > "$state/last_seed"

cd "$here"
if [[ -f $state/street/last.pt ]]; then
  start=(--resume "$state/street/last.pt")
else
  echo "continue.sh: no checkpoint in $state/street; rebuilding one from the shipped model"
  $python from_onnx.py --model ../deeplabv3_mnv3_street_512x256.onnx --train "data/train$seed" --out "$state/shipped.pt"
  start=(--init "$state/shipped.pt")
fi
nice -n 5 $python -W ignore train.py "${start[@]}" --train "data/train$seed" --dataset-seed "$seed" --minutes "$minutes" --out "$state/street" \
  | tee -a "$state/train.log"
$python -W ignore finalize.py --checkpoint "$state/street/last.pt" --train "data/train$seed" --out "$state/final"
# Prior correction: one bias per class fitted on the validation frames and folded into the file (the
# training distribution over-represents the rare classes; see class_bias.py).
$python -W ignore class_bias.py --model "$state/final/deeplabv3_mnv3_street_512x256.onnx" --data data/val

# The choice is made on the validation frames (all 300 of seed 9001); the held-out sets are measured for
# the record only, never to choose.
$python evaluate.py --model "$state/final/deeplabv3_mnv3_street_512x256.onnx" --data data/val --json "$state/final/val.json" | tail -4
$python evaluate.py --model ../deeplabv3_mnv3_street_512x256.onnx --data data/val --json "$state/shipped_val.json" | tail -4
$python evaluate.py --model "$state/final/deeplabv3_mnv3_street_512x256.onnx" --json "$state/final/heldout.json" | tail -4
better=$($python -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print(int(a['miou'] > b['miou']))" \
  "$state/final/val.json" "$state/shipped_val.json")
if [[ $better == 1 ]]; then
  cp "$state/final/deeplabv3_mnv3_street_512x256.onnx" "$state/final/deeplabv3_mnv3_street_512x256.json" ..
  "$root/models/quantize.sh"
  echo "continue.sh: the new model is better on the validation frames and replaces the shipped one; measure both held-out sets, update MODEL_CARD.md and commit"
else
  echo "continue.sh: the new model is not better on the validation frames; the shipped one stays"
fi
