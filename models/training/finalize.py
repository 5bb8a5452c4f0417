"""Re-estimates BatchNorm statistics of a training checkpoint, evaluates it and exports ONNX + manifest.

torchvision's MobileNetV3 uses BatchNorm momentum 0.01, so its running statistics average over
the last few hundred steps. Trained from scratch for only ~1-2 thousand steps, the weights change
faster than that and the running statistics lag behind them (the model is good in training mode
and poor in eval mode). Recomputing the statistics with the final weights on full-size training
frames (a cumulative average, no gradient step) fixes this without touching the learned weights.
"""
import argparse
import copy
import os
import shutil

import numpy as np
import torch
from torch import nn

import common
from train import evaluate


@torch.no_grad()
def recalibrate(model, images, batches, batch, seed=0, device=None):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all recalibration batches
    model.train()
    for _ in range(batches):
        idx = rng.integers(0, len(images), batch)
        model(common.normalise(images[idx], device))
    model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="runs/street/last.pt")
    ap.add_argument("--train", default="data/train", help="frames for the BatchNorm re-estimate")
    ap.add_argument("--val", default="data/val")
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--val-count", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/street/final")
    ap.add_argument("--share", default="")
    common.add_device_argument(ap)
    ap.add_argument("--weights-out", default="",
                    help="also save the chosen weights (CPU state dict) with the manifest's Training record to this "
                         "file before exporting, so that they can be exported elsewhere (--export-weights) if export fails here")
    ap.add_argument("--export-weights", default="",
                    help="only export a --weights-out file (ONNX + manifest) to --out; no checkpoint, no data")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.export_weights:
        saved = common.load_checkpoint(args.export_weights)
        model = common.build_model()
        model.load_state_dict(saved["model"])
        write(model, saved["training"], args)
        return
    device = common.pick_device(args.device)
    on = device if device.type != "cpu" else None

    ckpt = common.load_checkpoint(args.checkpoint)
    images, _ = common.load_split(args.train)
    val_images, val_labels = common.load_split(args.val)
    val_images, val_labels = val_images[:args.val_count], val_labels[:args.val_count]

    # The raw weights and their moving average (train.py keeps both), each with its running BatchNorm
    # statistics and with statistics re-estimated on full frames: the best of the four on the validation
    # frames is exported (the re-estimate helps after a schedule's full-frame phase, not always before it).
    candidates = [("weights", ckpt["model"])] + ([("EMA weights", ckpt["ema"])] if "ema" in ckpt else [])
    best = None
    for name, state in candidates:
        model = common.build_model()
        model.load_state_dict(state)
        if on is not None:
            model.to(on)
        model.eval()
        running = evaluate(model, val_images, val_labels, device=on)
        kept = copy.deepcopy(model)
        recalibrate(model, images, args.batches, args.batch, device=on)
        recalibrated = evaluate(model, val_images, val_labels, device=on)
        print(f"{name}: val mIoU {running[0]:.4f} with running statistics, {recalibrated[0]:.4f} after BatchNorm recalibration")
        for (miou, acc, iou, present), m, label in ((running, kept, f"{name}, running statistics"), (recalibrated, model, f"{name}, recalibrated")):
            if best is None or miou > best[0]:
                best = (miou, acc, iou, present, m, label)
    miou, acc, iou, present, model, chosen = best
    model.eval()
    print(f"checkpoint {args.checkpoint}: {ckpt['iterations']} iterations, {ckpt['minutes']:.1f} min; exporting the {chosen}")
    print(" ".join(f"{c}={v:.2f}" for c, v, p in zip(common.CLASSES, iou, present) if p))

    training = {"Iterations": ckpt["iterations"], "Minutes": round(ckpt["minutes"], 1), "ValidationMIoU": round(float(miou), 4)}
    if "plan" in ckpt:
        training["Plan"] = {"Iterations": ckpt["plan"]["iterations"], "Reached": ckpt["plan_iteration"],
                            "PeakLearningRate": ckpt["plan"]["lr"], "Started": ckpt["plan"]["started"],
                            "DecoderLearningRateFactor": ckpt["plan"]["decoder_lr_mult"], "Warmup": ckpt["plan"]["warmup"],
                            "FullSizeShare": ckpt["plan"]["full_size_share"]}
    if "dataset_seeds" in ckpt:
        training["DatasetSeeds"] = ckpt["dataset_seeds"]
    else:
        print("the checkpoint does not record its dataset seeds (written by an earlier train.py): the manifest will not list them")
    if args.weights_out:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save({"model": state, "training": training}, args.weights_out + ".tmp")
        os.replace(args.weights_out + ".tmp", args.weights_out)
        print(f"saved the chosen weights to {args.weights_out}")
    write(model, training, args)


def write(model, training, args):
    """Exports the model (on the CPU, common.export_onnx) and writes its manifest; copies both to --share."""
    os.makedirs(args.out, exist_ok=True)
    name = "deeplabv3_mnv3_street_512x256"
    onnx_path = os.path.join(args.out, name + ".onnx")
    common.export_onnx(model, onnx_path)
    common.write_manifest(os.path.join(args.out, name + ".json"), name, {"Training": training})
    if args.share:
        os.makedirs(args.share, exist_ok=True)
        for ext in (".onnx", ".json"):
            src = os.path.join(args.out, name + ext)
            tmp = os.path.join(args.share, "." + name + ext + ".tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, os.path.join(args.share, name + ext))
    print(f"exported {onnx_path}")


if __name__ == "__main__":
    main()
