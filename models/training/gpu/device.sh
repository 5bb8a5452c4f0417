#!/usr/bin/env bash
# One training run on a GPU machine without .NET (README.md, "Training on a GPU machine"), from the
# repository root:
#   bash models/training/gpu/device.sh [MINUTES [SEED]]      (MINUTES of training, default 6)
#
# 1. renders the validation frames (300 of seed 9001, as continue.sh) and a NEW training set (SEED, or
#    the next after the shipped manifest's Training.DatasetSeeds) with the carried renderer
#    (models/training/gpu/bin/<rid>/edgeseg-render, from prepare.sh): no .NET needed;
# 2. rebuilds a checkpoint from the shipped model (from_onnx.py) and starts from it a NEW plan sized to
#    the minutes (train.py --new-plan --plan-iterations 0: the schedule, full-frame phase included, ends
#    when the minutes do; PLAN=continue goes on along the shipped manifest's plan instead);
# 3. trains under a hard time limit (SIGTERM keeps the checkpoint), re-estimates BatchNorm and exports
#    (finalize.py), and evaluates the export and the shipped model on the validation frames (the class
#    bias of class_bias.py, which continue.sh folds in, is fitted afterwards on the machine the model is
#    brought to: on all 300 frames it takes minutes; CLASS_BIAS=yes runs it here when time is left);
# 4. leaves in $OUT (a temp dir when unset) at most 8 files, none over 15 MiB: the export split into
#    deeplabv3_mnv3_street_512x256.onnx.part-a? (its sha256 is in device.log), its manifest, val.json,
#    shipped_val.json, train.log, device.log. Whatever step fails or runs out of time, what exists by
#    then is left there (an export as soon as finalize.py wrote one).
# The whole script keeps inside BUDGET_S seconds (default 540, under the run tool's 600 s limit).
set -euo pipefail
start_s=$SECONDS
minutes=${1:-6}
seed_arg=${2:-}
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-auto}              # --device of the Python steps (auto: cuda when there is one)
BUDGET_S=${BUDGET_S:-540}           # the whole script, start to end
RESERVE_S=${RESERVE_S:-150}         # kept for what follows training (finalize, class bias, evaluations)
TRAIN_FRAMES=${TRAIN_FRAMES:-20000}
VAL_FRAMES=${VAL_FRAMES:-300}
BATCH=${BATCH:-16}
AMP=${AMP:-none}                    # none (float32; TF32 convolutions on cuda), bf16 or fp16
PLAN=${PLAN:-new}                   # new: a plan sized to the run; continue: the shipped manifest's plan
LR=${LR:-5e-4}
CLASS_BIAS=${CLASS_BIAS:-no}        # yes: fold in class_bias.py's bias here when it exists and time is left
FINALIZE_BATCHES=${FINALIZE_BATCHES:-100}  # finalize.py --batches (BatchNorm re-estimate)
PLAN_TIMING=${PLAN_TIMING:-60}      # iterations timed before a new plan's length is set
THREADS=${THREADS:-$(nproc)}
WORK=${WORK:-${TMPDIR:-/tmp}/edgeseg-gpu}
export PYTHONUNBUFFERED=1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
training=$root/models/training
name=deeplabv3_mnv3_street_512x256
shipped=$root/models/$name.onnx
if [[ -z ${OUT:-} ]]; then OUT=$(mktemp -d); fi
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/device.log") 2>&1
say() { echo "[device.sh $((SECONDS - start_s)) s] $*"; }
left() { echo $((BUDGET_S - (SECONDS - start_s))); }

final=$WORK/final
# What comes back: the export in parts of 15 MiB (the run tool returns files of at most 16 MiB), or,
# when no export was written, nothing but the logs.
collect() {
  set +e
  if [[ -f $final/$name.onnx && ! -f $OUT/$name.json ]]; then
    rm -f "$OUT/$name.onnx.part-"*
    split -b 15M -a 1 "$final/$name.onnx" "$OUT/$name.onnx.part-"
    cp "$final/$name.json" "$OUT/"
    say "export: $(stat -c %s "$final/$name.onnx") bytes in $(ls "$OUT/$name.onnx.part-"* | wc -l) parts, sha256 $(sha256sum "$final/$name.onnx" | cut -d' ' -f1)"
  elif [[ ! -f $final/$name.onnx && -f $WORK/final_weights.pt && -z $(ls "$OUT"/final_weights.pt.part-* 2>/dev/null) ]]; then
    # finalize.py chose the weights but could not export them: bring those back instead
    # (finalize.py --export-weights FILE --out DIR exports them on another machine).
    split -b 15M -a 1 "$WORK/final_weights.pt" "$OUT/final_weights.pt.part-"
    say "no export was written; the chosen weights are in $(ls "$OUT"/final_weights.pt.part-* | wc -l) parts, sha256 $(sha256sum "$WORK/final_weights.pt" | cut -d' ' -f1)"
  elif [[ ! -f $final/$name.onnx ]]; then
    say "no export was written"
  fi
  [[ -f $WORK/train.log ]] && cp "$WORK/train.log" "$OUT/train.log"
  say "done; in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
}
trap collect EXIT

case $(uname -m) in
  x86_64|amd64) rid=linux-x64 ;;
  aarch64|arm64) rid=linux-arm64 ;;
  *) echo "device.sh: no renderer build for $(uname -m)" >&2; exit 1 ;;
esac
render=$here/bin/$rid/edgeseg-render
[[ -x $render ]] || { echo "device.sh: $render is missing: run models/training/gpu/prepare.sh and carry models/training/gpu/bin/$rid" >&2; exit 1; }
say "$(uname -m), $THREADS CPU threads, $($PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available() and torch.cuda.get_device_name(0))')"

# The training seed: the argument, else one more than every seed the shipped model was trained on
# (continue.sh's rule; seed 1 trained the encoder-only releases). Recorded in the checkpoint and the manifest.
shipped_seed=$($PYTHON -c "import json,sys; print(max(json.load(open(sys.argv[1]))['Training'].get('DatasetSeeds', [1])))" "${shipped%.onnx}.json")
seed=${seed_arg:-$((shipped_seed + 1))}
say "training seed $seed (the shipped model's latest: $shipped_seed); $minutes min of training asked, budget $BUDGET_S s"

data=$WORK/data
if [[ ! -f $data/val/labels.npy ]]; then
  "$render" --count "$VAL_FRAMES" --size 512x256 --seed 9001 --out "$data/val" --jobs "$THREADS" | tail -1
fi
if [[ ! -f $data/train$seed/.rendered ]]; then
  rm -rf "$data/train$seed"
  "$render" --count "$TRAIN_FRAMES" --size 512x256 --seed "$seed" --out "$data/train$seed" --jobs "$THREADS" | tail -1
  touch "$data/train$seed/.rendered"
fi
say "data rendered"

cd "$training"
$PYTHON -W ignore from_onnx.py --model "$shipped" --train "$data/train$seed" --out "$WORK/shipped.pt" \
  --threads "$THREADS" --device "$DEVICE" | tail -3
if [[ $PLAN == continue ]]; then
  plan=()
else
  plan=(--new-plan --plan-iterations 0 --plan-timing "$PLAN_TIMING" --lr "$LR" --decoder-lr-mult 5 --warmup 100)
fi

# Training time: what is asked, but never more than the budget leaves after the reserve (the loading of
# the data onto the GPU, about 30 s, comes before train.py's clock starts).
avail=$(( $(left) - RESERVE_S - 30 ))
asked_s=$(awk "BEGIN{printf \"%d\", $minutes * 60}")
train_s=$(( asked_s < avail ? asked_s : avail ))
if (( train_s < 30 )); then echo "device.sh: only $avail s left for training" >&2; exit 1; fi
say "training for $train_s s (plan: $PLAN, batch $BATCH, autocast $AMP)"
set +e
timeout -s TERM -k 30 $((train_s + 90)) $PYTHON -W ignore train.py --init "$WORK/shipped.pt" ${plan[@]+"${plan[@]}"} \
  --train "$data/train$seed" --dataset-seed "$seed" --val "$data/val" --minutes "$(awk "BEGIN{print $train_s/60}")" \
  --batch "$BATCH" --amp "$AMP" --device "$DEVICE" --threads "$THREADS" --snapshot-minutes 2 --checkpoint-minutes 3 \
  --out "$WORK/street" 2>&1 | tee "$WORK/train.log"
status=${PIPESTATUS[0]}
set -e
say "train.py ended with status $status"
[[ -f $WORK/street/last.pt ]] || { echo "device.sh: no checkpoint was written" >&2; exit 1; }

$PYTHON -W ignore finalize.py --checkpoint "$WORK/street/last.pt" --train "$data/train$seed" --val "$data/val" \
  --batches "$FINALIZE_BATCHES" --out "$final" --weights-out "$WORK/final_weights.pt" --threads "$THREADS" --device "$DEVICE"
say "exported $final/$name.onnx"

if [[ $CLASS_BIAS == yes && -f class_bias.py ]] && (( $(left) > 100 )); then
  cp "$final/$name.onnx" "$final/$name.onnx.nobias"
  cp "$final/$name.json" "$final/$name.json.nobias"
  if timeout -s TERM $(( $(left) - 70 )) $PYTHON -W ignore class_bias.py --model "$final/$name.onnx" --data "$data/val" --threads "$THREADS"; then
    say "class bias folded in"
  else
    say "class_bias.py failed or ran out of time: the export stays without it"
    mv "$final/$name.onnx.nobias" "$final/$name.onnx"
    mv "$final/$name.json.nobias" "$final/$name.json"
  fi
  rm -f "$final/$name.onnx.nobias" "$final/$name.json.nobias"
else
  say "class bias not fitted here (CLASS_BIAS=$CLASS_BIAS, $( [[ -f class_bias.py ]] && echo "$(left) s left" || echo "no class_bias.py"))"
fi
collect

# The validation frames, both models the same way (onnxruntime when installed, else onnx_torch.py).
for which in new shipped; do
  if (( $(left) < 25 )); then say "no time left to evaluate the $which model"; continue; fi
  model=$final/$name.onnx; json=$OUT/val.json
  [[ $which == shipped ]] && { model=$shipped; json=$OUT/shipped_val.json; }
  timeout -s TERM $(( $(left) - 10 )) $PYTHON -W ignore evaluate.py --model "$model" --data "$data/val" --json "$json" \
    --threads "$THREADS" --device "$DEVICE" | tail -4 | sed "s/^/$which: /" || say "evaluating the $which model failed"
done
if [[ -f $OUT/val.json && -f $OUT/shipped_val.json ]]; then
  $PYTHON -c "import json,sys; a=json.load(open(sys.argv[1]))['miou']; b=json.load(open(sys.argv[2]))['miou']; print(f'validation mIoU: new {a:.4f}, shipped {b:.4f}: the new one is {\"better\" if a > b else \"not better\"}')" \
    "$OUT/val.json" "$OUT/shipped_val.json"
fi
