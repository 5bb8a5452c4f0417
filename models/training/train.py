"""Trains the bundled street model from scratch on rendered scenes; see README.md for the commands."""
import argparse
import math
import os
import shutil
import time

import numpy as np
import torch
import torch.nn.functional as F

import common


def class_weights(labels, n=common.NUM_CLASSES):
    """ENet-style 1/ln(1.02 + p) weights: small classes (poles, lights, riders) count for more."""
    counts = np.bincount(labels[labels != common.IGNORE].ravel(), minlength=256)[:n].astype(np.float64)
    p = counts / counts.sum()
    w = 1.0 / np.log(1.02 + p)
    w[counts == 0] = 0.0
    w = np.minimum(w, 30.0)
    return torch.tensor(w / w[counts > 0].mean(), dtype=torch.float32)


def random_batch(rng, images, labels, batch, crop_w, crop_h):
    idx = rng.integers(0, len(images), batch)
    h, w = images.shape[1:3]
    xs = np.empty((batch, crop_h, crop_w, 3), np.uint8)
    ys = np.empty((batch, crop_h, crop_w), np.uint8)
    for k, i in enumerate(idx):
        y0 = rng.integers(0, h - crop_h + 1)
        x0 = rng.integers(0, w - crop_w + 1)
        im = images[i, y0:y0 + crop_h, x0:x0 + crop_w]
        lb = labels[i, y0:y0 + crop_h, x0:x0 + crop_w]
        if rng.random() < 0.5:
            im = im[:, ::-1]
            lb = lb[:, ::-1]
        xs[k] = im
        ys[k] = lb
    x = common.normalise(xs)
    # Mild photometric jitter on top of the renderer's own lighting variation.
    gain = torch.from_numpy(rng.uniform(0.8, 1.2, (batch, 1, 1, 1)).astype(np.float32))
    bias = torch.from_numpy(rng.uniform(-0.2, 0.2, (batch, 1, 1, 1)).astype(np.float32))
    x = x * gain + bias
    return x, torch.from_numpy(ys.astype(np.int64))


def evaluate(model, images, labels, batch=4):
    model.eval()
    conf = np.zeros((common.NUM_CLASSES, common.NUM_CLASSES), np.int64)
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out = model(common.normalise(images[i:i + batch]))["out"]
            pred = out.argmax(1).numpy().astype(np.uint8)
            conf += common.confusion(pred, labels[i:i + batch])
    model.train()
    tp = np.diag(conf).astype(np.float64)
    present = conf.sum(1) > 0
    iou = tp / np.maximum(conf.sum(0) + conf.sum(1) - tp, 1)
    return iou[present].mean(), tp.sum() / max(conf.sum(), 1), iou, present


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/train")
    ap.add_argument("--val", default="data/val")
    ap.add_argument("--out", default="runs/street")
    ap.add_argument("--minutes", type=float, default=55.0, help="wall-clock budget; the LR schedule follows it")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", default="384x192")
    ap.add_argument("--full-size-share", type=float, default=0.2, help="last share of the budget trains on full 512x256 frames")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--snapshot-minutes", type=float, default=10.0)
    ap.add_argument("--val-count", type=int, default=64)
    ap.add_argument("--share", default="", help="folder to copy ONNX snapshots to")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", default="", help="start from this checkpoint's weights (the optimizer starts afresh)")
    ap.add_argument("--bn-momentum", type=float, default=0.1,
                    help="BatchNorm momentum; torchvision's MobileNetV3 uses 0.01, whose running statistics lag far "
                         "behind the weights when training from scratch for a few thousand steps")
    ap.add_argument("--warmup", type=int, default=150, help="linear learning-rate warm-up, in iterations")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory layout (faster with oneDNN)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)

    t_load = time.time()
    images, labels = common.load_split(args.train)
    val_images, val_labels = common.load_split(args.val)
    val_images, val_labels = val_images[:args.val_count], val_labels[:args.val_count]
    print(f"loaded {len(images)} training and {len(val_images)} validation frames in {time.time() - t_load:.0f} s", flush=True)
    weights = class_weights(labels)
    print("class weights:", " ".join(f"{c}={w:.2f}" for c, w in zip(common.CLASSES, weights.tolist())), flush=True)

    model = common.build_model()
    if args.resume:
        ckpt = torch.load(args.resume, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        print(f"resumed from {args.resume}: {ckpt['iterations']} iterations, {ckpt['minutes']:.1f} min", flush=True)
        it0, minutes0 = ckpt["iterations"], ckpt["minutes"]
    else:
        it0, minutes0 = 0, 0.0
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = args.bn_momentum
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    crop_w, crop_h = (int(v) for v in args.crop.split("x"))
    budget = args.minutes * 60.0
    start = time.time()
    last_snapshot = start
    it = 0
    best = -1.0
    loss_avg = None
    while True:
        elapsed = time.time() - start
        frac = elapsed / budget
        if frac >= 1.0:
            break
        warm = min(1.0, (it + 1) / max(1, args.warmup))
        lr = args.lr * warm * (1.0 - frac) ** 0.9
        for g in opt.param_groups:
            g["lr"] = lr
        full = frac >= 1.0 - args.full_size_share
        if full:
            x, y = random_batch(rng, images, labels, max(2, args.batch // 2), common.WIDTH, common.HEIGHT)
        else:
            x, y = random_batch(rng, images, labels, args.batch, crop_w, crop_h)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out = model(x)["out"]
        loss = F.cross_entropy(out, y, weight=weights, ignore_index=common.IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        it += 1
        loss_avg = loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.item()
        if it % 25 == 0:
            print(f"it {it} t {elapsed / 60:.1f} min lr {lr:.2e} loss {loss_avg:.4f} {'full' if full else 'crop'}", flush=True)
        if time.time() - last_snapshot >= args.snapshot_minutes * 60.0:
            last_snapshot = time.time()
            snapshot(model, args, it0 + it, val_images, val_labels, minutes0 * 60 + elapsed)

    total = time.time() - start
    print(f"training finished: {it} iterations in {total / 60:.1f} min (cumulative {it0 + it} iterations, "
          f"{minutes0 + total / 60:.1f} min)", flush=True)
    snapshot(model, args, it0 + it, val_images, val_labels, minutes0 * 60 + total, final=True)


def snapshot(model, args, it, val_images, val_labels, elapsed, final=False):
    miou, acc, iou, present = evaluate(model, val_images, val_labels)
    per = " ".join(f"{c}={v:.2f}" for c, v, p in zip(common.CLASSES, iou, present) if p)
    print(f"[{'final' if final else 'snapshot'}] it {it} t {elapsed / 60:.1f} min val mIoU {miou:.4f} acc {acc:.4f} | {per}", flush=True)
    torch.save({"model": model.state_dict(), "iterations": it, "minutes": elapsed / 60, "val_miou": miou},
               os.path.join(args.out, "last.pt"))
    onnx_path = os.path.join(args.out, "deeplabv3_mnv3_street_512x256.onnx")
    common.export_onnx(model, onnx_path)
    common.write_manifest(os.path.splitext(onnx_path)[0] + ".json", "deeplabv3_mnv3_street_512x256",
                          {"Training": {"Iterations": it, "Minutes": round(elapsed / 60, 1), "ValidationMIoU": round(float(miou), 4)}})
    model.train()
    if args.share:
        os.makedirs(args.share, exist_ok=True)
        for ext in (".onnx", ".json"):
            src = os.path.splitext(onnx_path)[0] + ext
            tmp = os.path.join(args.share, "." + os.path.basename(src) + ".tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, os.path.join(args.share, os.path.basename(src)))


if __name__ == "__main__":
    main()
