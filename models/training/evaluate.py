"""Evaluates an exported ONNX street model on rendered held-out scenes.

Runs the ONNX file itself (with onnxruntime where it is installed, else with onnx_torch.py; --runtime)
on DIR/images/*.png with labels DIR/labels/*.png, as written by `edgeseg dataset render` (or on
DIR/images.npy and DIR/labels.npy alone, as tools/EdgeSeg.Render writes them), at the model's input size, and prints per-class IoU, mIoU
over the classes present in the ground truth, pixel accuracy and the mean absolute error of each
class's area share (|predicted share - true share| per image, averaged over images).
"""
import argparse
import json
import os
import time

import numpy as np
import torch

import common
from onnx_torch import OnnxTorchRunner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="../deeplabv3_mnv3_street_512x256.onnx")
    ap.add_argument("--data", default="data/heldout")
    ap.add_argument("--count", type=int, default=0, help="evaluate only the first N samples (0: all)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default="", help="also write the results (confusion matrix included) to this file")
    ap.add_argument("--confusions", type=float, default=0.0,
                    help="also print, for each class whose IoU is below this, where its missed pixels went and "
                         "what its false positives really were")
    ap.add_argument("--runtime", default="auto", choices=["auto", "onnxruntime", "torch"],
                    help="auto: onnxruntime when it imports, else onnx_torch.py (on --device)")
    common.add_device_argument(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    manifest_path = os.path.splitext(args.model)[0] + ".json"
    with open(manifest_path) as f:
        manifest = json.load(f)
    inp = manifest["Input"]
    width, height = inp["Width"], inp["Height"]
    classes = manifest["Classes"]
    n = len(classes)

    images, labels = common.load_split(args.data, cache=False)
    if args.count:
        images, labels = images[:args.count], labels[:args.count]
    if images.shape[1:3] != (height, width):
        raise SystemExit(f"data is {images.shape[2]}x{images.shape[1]}, the model takes {width}x{height}: "
                         f"render it at the model's input size")

    runtime = args.runtime
    if runtime == "auto":
        try:
            import onnxruntime  # noqa: F401
            runtime = "onnxruntime"
        except ImportError:
            runtime = "torch"
    if runtime == "onnxruntime":
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        session = onnxruntime.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name

        def run(x):
            return torch.from_numpy(session.run(None, {input_name: x.numpy()})[0])
    else:
        device = common.pick_device(args.device)
        run = OnnxTorchRunner(args.model, device if device.type != "cpu" else None).run
    mean = torch.tensor(inp["Mean"]).view(1, 3, 1, 1)
    std = torch.tensor(inp["Std"]).view(1, 3, 1, 1)
    conf = np.zeros((n, n), np.int64)
    share_err = np.zeros(n)
    start = time.time()
    for i in range(0, len(images), args.batch):
        x = torch.from_numpy(images[i:i + args.batch]).permute(0, 3, 1, 2).float() / inp["Scale"]
        x = (x - mean) / std
        pred = run(x).argmax(1).cpu().numpy().astype(np.uint8)
        truth = labels[i:i + args.batch]
        conf += common.confusion(pred, truth, n)
        for p, t in zip(pred, truth):
            total = t.size
            ps = np.bincount(p.ravel(), minlength=256)[:n] / total
            ts = np.bincount(t.ravel(), minlength=256)[:n] / total
            share_err += np.abs(ps - ts)
    seconds = time.time() - start
    share_err /= len(images)

    tp = np.diag(conf).astype(np.float64)
    gt = conf.sum(1)
    predicted = conf.sum(0)
    present = gt > 0
    iou = tp / np.maximum(gt + predicted - tp, 1)
    miou = iou[present].mean()
    acc = tp.sum() / conf.sum()

    print(f"model {args.model}, {len(images)} samples from {args.data} at {width}x{height}, "
          f"{seconds:.0f} s ({1000 * seconds / len(images):.0f} ms/frame in {'onnxruntime' if runtime == 'onnxruntime' else 'this Python runner'})")
    print()
    print("| class | IoU | true share | mean abs share error |")
    print("|---|---:|---:|---:|")
    for c in range(n):
        mark = "" if present[c] else " (absent)"
        iou_text = f"{iou[c]:.3f}" if present[c] else "-"
        print(f"| {classes[c]}{mark} | {iou_text} | {gt[c] / conf.sum():.4f} | {share_err[c]:.4f} |")
    print()
    print(f"mIoU over the {present.sum()} classes present: {miou:.4f}")
    print(f"pixel accuracy: {acc:.4f}")
    print(f"largest per-class mean abs share error: {share_err.max():.4f} ({classes[int(share_err.argmax())]})")
    if args.confusions > 0:
        print_confusions(conf, iou, present, classes, args.confusions)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": len(images), "miou": miou, "pixel_accuracy": acc,
                       "iou": {classes[c]: (iou[c] if present[c] else None) for c in range(n)},
                       "share_error": {classes[c]: share_err[c] for c in range(n)},
                       "confusion": conf.tolist()}, f, indent=2)


def print_confusions(conf, iou, present, classes, below, top=3):
    """Where each weak class's errors go. A class's IoU loses its missed pixels (truth c, predicted
    something else: row c) and its false positives (predicted c, truth something else: column c); both
    are shown as shares of the class's true pixels, largest first."""
    print()
    print(f"errors of the classes with IoU below {below:.2f} (shares of the class's true pixels):")
    for c in np.argsort(iou):
        if not present[c] or iou[c] >= below:
            continue
        true = conf[c].sum()
        missed = [(conf[c, k] / true, k) for k in range(len(classes)) if k != c and conf[c, k] > 0]
        false = [(conf[k, c] / true, k) for k in range(len(classes)) if k != c and conf[k, c] > 0]
        missed.sort(reverse=True)
        false.sort(reverse=True)
        miss_text = ", ".join(f"{classes[k]} {v:.2f}" for v, k in missed[:top])
        false_text = ", ".join(f"{classes[k]} {v:.2f}" for v, k in false[:top])
        print(f"  {classes[c]} (IoU {iou[c]:.3f}): missed {sum(v for v, _ in missed):.2f} as {miss_text}; "
              f"false {sum(v for v, _ in false):.2f} from {false_text}")


if __name__ == "__main__":
    main()
