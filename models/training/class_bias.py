"""Fits one additive bias per class to an exported model's logits on the validation frames and folds it
into the file: a prior correction, at no inference cost.

Training sees rare classes far more often than the scenes hold them (40 % of crops are centred on one,
and the loss weighs them up to 10x), so the trained model over-predicts them: on the validation frames
its false positives of motorcycle are 1.7x the class's true pixels, of rider 1.3x, of traffic light and
person 0.8x and 0.65x (`evaluate.py --confusions 0.8`). Adding a constant b_c to class c's logits moves
each pixel's decision between c and its runner-up without changing anything else; the b that maximises
mIoU on the validation frames is found by coordinate ascent, one class at a time over a grid of steps,
with the exact effect of every step computed from each pixel's best competing class.

The bias goes into the bias of a classifier convolution that feeds the output only through bilinear
resizes and adds (a constant passes through both unchanged), so the file keeps its form and cost, and
the manifest records it under Training.ClassBias (from_onnx.py subtracts it again when it rebuilds a
training checkpoint from the file). Only the validation frames are used: the held-out sets stay unseen.

    /usr/bin/python3 class_bias.py --model EXPORT.onnx [--data data/val] [--out OUT.onnx]
"""
import argparse
import json
import os
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import common
from onnx_torch import OnnxTorchRunner

STEPS = [-2.0, -1.4, -1.0, -0.7, -0.5, -0.35, -0.25, -0.15, -0.08, 0.08, 0.15, 0.25, 0.4]


def logits_of(model, data, batch, count, every=1):
    with open(os.path.splitext(model)[0] + ".json") as f:
        inp = json.load(f)["Input"]
    images, labels = common.load_split(data)
    if count:
        images, labels = images[:count], labels[:count]
    runner = OnnxTorchRunner(model)
    mean = torch.tensor(inp["Mean"]).view(1, 3, 1, 1)
    std = torch.tensor(inp["Std"]).view(1, 3, 1, 1)
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).permute(0, 3, 1, 2).float() / inp["Scale"]
        out.append(runner.run((x - mean) / std)[:, :, ::every, ::every].half())
    logits = torch.cat(out)  # N, C, H, W
    n, c = logits.shape[:2]
    truth = torch.from_numpy(np.ascontiguousarray(labels[:, ::every, ::every])).reshape(-1).long()
    return logits.permute(1, 0, 2, 3).reshape(c, -1).contiguous(), truth, n


def miou_of(pred, truth, classes):
    valid = truth < classes
    conf = torch.bincount(truth[valid] * classes + pred[valid], minlength=classes * classes).reshape(classes, classes).double()
    tp = conf.diag()
    gt = conf.sum(1)
    union = gt + conf.sum(0) - tp
    present = gt > 0
    return (tp[present] / union[present]).mean().item()


def fit(logits, truth, passes, log):
    classes = logits.shape[0]
    bias = torch.zeros(classes)
    present = torch.bincount(truth[truth < classes], minlength=classes) > 0
    best = miou_of(argmax(logits, bias), truth, classes)
    log(f"start: mIoU {best:.4f}")
    for p in range(passes):
        changed = False
        for c in range(classes):
            if not present[c]:
                continue
            # The best other class of every pixel, with the biases so far: whether a pixel goes to c
            # is then score_c + step > best_other, and otherwise it goes to that other class.
            others = logits.float() + bias.view(-1, 1)
            score = others[c].clone()
            others[c] = -float("inf")
            best_other, runner_up = others.max(0)
            del others
            step_best, gain = 0.0, best
            for step in STEPS:
                pred = torch.where(score + step > best_other, torch.full_like(runner_up, c), runner_up)
                m = miou_of(pred, truth, classes)
                if m > gain + 1e-5:
                    step_best, gain = step, m
            if step_best != 0.0:
                bias[c] += step_best
                best = gain
                changed = True
                log(f"pass {p + 1} {common.CLASSES[c] if classes == len(common.CLASSES) else c}: "
                    f"bias {bias[c].item():+.2f}, mIoU {best:.4f}")
        if not changed:
            break
    return bias, best


def argmax(logits, bias):
    return (logits.float() + bias.view(-1, 1)).argmax(0)


def classifier_bias(graph):
    """The bias initializer of a Conv that reaches the output only through Resize and Add nodes."""
    producers = {o: n for n in graph.node for o in n.output}
    inits = {i.name: i for i in graph.initializer}
    frontier = [graph.output[0].name]
    while frontier:
        node = producers.get(frontier.pop(0))
        if node is None:
            continue
        if node.op_type == "Conv" and len(node.input) > 2 and node.input[2] in inits:
            return inits[node.input[2]], node.name
        if node.op_type in ("Resize", "Add"):
            frontier.extend(i for i in node.input if i in producers)
    raise SystemExit("class_bias.py: no classifier convolution with a bias feeds the output through resizes and adds only")


def fold(model, out, bias, fitted_on, miou_before, miou_after):
    m = onnx.load(model)
    init, node = classifier_bias(m.graph)
    values = numpy_helper.to_array(init).astype(np.float32)
    if values.shape != (len(bias),):
        raise SystemExit(f"class_bias.py: {node}'s bias has shape {values.shape}, expected ({len(bias)},)")
    init.CopyFrom(numpy_helper.from_array(values + bias.numpy().astype(np.float32), init.name))
    tmp = out + ".tmp"
    onnx.save(m, tmp)
    manifest_in = os.path.splitext(model)[0] + ".json"
    with open(manifest_in) as f:
        manifest = json.load(f)
    previous = manifest.get("Training", {}).get("ClassBias", {}).get("Values")
    total = bias.numpy() + (np.array([previous[c] for c in manifest["Classes"]]) if previous else 0)
    manifest.setdefault("Training", {})["ClassBias"] = {
        "Node": node,
        "FittedOn": fitted_on,
        "ValidationMIoU": {"Before": round(miou_before, 4), "After": round(miou_after, 4)},
        "Values": {c: round(float(v), 4) for c, v in zip(manifest["Classes"], total)},
    }
    os.replace(tmp, out)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return node


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="exported ONNX file (manifest beside it)")
    ap.add_argument("--data", default="data/val", help="validation frames (never a held-out set)")
    ap.add_argument("--out", default="", help="where to write the corrected file (default: over --model)")
    ap.add_argument("--count", type=int, default=0, help="only the first N frames (0: all)")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--every", type=int, default=2,
                    help="fit on every Nth pixel of each row and column (2: a quarter of the pixels, all frames)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.time()
    log = lambda text: print(f"[{time.time() - start:5.0f} s] {text}", flush=True)
    logits, truth, frames = logits_of(args.model, args.data, args.batch, args.count, args.every)
    log(f"logits of {frames} frames from {args.data}")
    before = miou_of(argmax(logits, torch.zeros(logits.shape[0])), truth, logits.shape[0])
    bias, after = fit(logits, truth, args.passes, log)
    out = args.out or args.model
    fitted_on = f"{os.path.basename(os.path.normpath(args.data))}, {frames} frames, 1 in {args.every} pixels of each row and column"
    node = fold(args.model, out, bias, fitted_on, before, after)
    log(f"validation mIoU {before:.4f} -> {after:.4f}; biases folded into {node}; wrote {out}")
    print("biases: " + " ".join(f"{c}={b:+.2f}" for c, b in zip(common.CLASSES, bias.tolist()) if b != 0))


if __name__ == "__main__":
    main()
