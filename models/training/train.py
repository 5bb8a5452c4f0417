"""Trains the bundled street model (DeepLabV3+) on rendered scenes; see README.md for the plan and commands.

Training spans several runs of a few hours each, any of which may be cut short. So:

- the learning rate follows ONE poly schedule counted in iterations (the plan), stored in the
  checkpoint with the optimizer state, the EMA weights and the iteration reached; `--resume` picks it
  up exactly where the last run left off, whatever the machine's speed;
- a checkpoint is written every `--checkpoint-minutes` and when the process is told to stop
  (SIGTERM/SIGINT), outside the repository (`--out`);
- the last `full_size_share` of the plan trains on full 512x256 frames.
"""
import argparse
import os
import signal
import time

import numpy as np
import torch
import torch.nn.functional as F

import common

# Classes under 0.5 % of the pixels: crops are centred on one of their pixels for a share of each batch.
RARE = ["pole", "traffic light", "traffic sign", "person", "rider", "truck", "bus", "train", "motorcycle", "bicycle"]


def class_weights(labels, n=common.NUM_CLASSES, cap=10.0):
    """Square-root inverse frequency, relative to the median class, capped.

    ENet's 1/ln(1.02 + p) capped at 30 made the model over-predict pole and traffic light (precision
    0.41 and 0.26); the square root weighs rare classes up without buying recall with that much precision."""
    counts = np.zeros(n, np.float64)
    for i in range(0, len(labels), 500):
        counts += np.bincount(np.asarray(labels[i:i + 500]).ravel(), minlength=256)[:n]
    p = counts / counts.sum()
    present = counts > 0
    w = np.zeros(n)
    w[present] = np.sqrt(np.median(p[present]) / p[present])
    w = np.minimum(w, cap)
    return torch.tensor(w / w[present].mean(), dtype=torch.float32), p


def rare_index(labels, n=common.NUM_CLASSES):
    """For each rare class, the frames that hold at least 64 of its pixels."""
    ids = [common.CLASSES.index(c) for c in RARE]
    frames = {c: [] for c in ids}
    for i in range(0, len(labels), 500):
        block = np.asarray(labels[i:i + 500]).reshape(min(500, len(labels) - i), -1)
        for k, row in enumerate(block):
            counts = np.bincount(row, minlength=256)
            for c in ids:
                if counts[c] >= 64:
                    frames[c].append(i + k)
    return {c: np.array(v) for c, v in frames.items() if len(v)}


def random_batch(rng, images, labels, rare, batch, crop_w, crop_h, rare_share):
    h, w = images.shape[1:3]
    xs = np.empty((batch, crop_h, crop_w, 3), np.uint8)
    ys = np.empty((batch, crop_h, crop_w), np.uint8)
    classes = list(rare)
    for k in range(batch):
        if classes and rng.random() < rare_share:
            c = classes[rng.integers(len(classes))]
            i = int(rare[c][rng.integers(len(rare[c]))])
            lb = np.asarray(labels[i])
            yy, xx = np.nonzero(lb == c)
            j = rng.integers(len(yy))
            y0 = int(np.clip(yy[j] - crop_h // 2 + rng.integers(-crop_h // 4, crop_h // 4 + 1), 0, h - crop_h))
            x0 = int(np.clip(xx[j] - crop_w // 2 + rng.integers(-crop_w // 4, crop_w // 4 + 1), 0, w - crop_w))
        else:
            i = int(rng.integers(len(images)))
            lb = np.asarray(labels[i])
            y0 = int(rng.integers(0, h - crop_h + 1))
            x0 = int(rng.integers(0, w - crop_w + 1))
        im = images[i, y0:y0 + crop_h, x0:x0 + crop_w]
        lb = lb[y0:y0 + crop_h, x0:x0 + crop_w]
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
            conf += common.confusion(pred, np.asarray(labels[i:i + batch]))
    model.train()
    tp = np.diag(conf).astype(np.float64)
    present = conf.sum(1) > 0
    iou = tp / np.maximum(conf.sum(0) + conf.sum(1) - tp, 1)
    return iou[present].mean(), tp.sum() / max(conf.sum(), 1), iou, present


class Ema:
    """Exponential moving average of the weights (BatchNorm statistics are re-estimated at export)."""

    def __init__(self, model, decay):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model):
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:
                self.state[k].copy_(v)


def plan_lr(plan, it):
    """Poly schedule over the plan's iterations, with a linear warm-up at its start."""
    frac = min(1.0, it / plan["iterations"])
    warm = min(1.0, (it + 1) / max(1, plan["warmup"]))
    return plan["lr"] * warm * (1.0 - frac) ** 0.9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", nargs="+", default=["data/train"], help="rendered training sets")
    ap.add_argument("--dataset-seed", type=int, nargs="*", default=[],
                    help="the dataset seeds the --train sets were rendered with, recorded in the checkpoint and the manifest")
    ap.add_argument("--val", default="data/val")
    ap.add_argument("--out", default=os.path.expanduser("~/edgeseg-training/street"),
                    help="checkpoints (kept outside the repository)")
    ap.add_argument("--resume", default="", help="continue the plan of this checkpoint (weights, optimizer, EMA, iteration)")
    ap.add_argument("--init", default="", help="start a NEW plan from this checkpoint's weights (e.g. from_onnx.py's output)")
    ap.add_argument("--new-plan", action="store_true",
                    help="with --init: start a new plan even when the checkpoint records one (from_onnx.py copies it from the manifest)")
    ap.add_argument("--plan-iterations", type=int, default=24000, help="length of a new plan's poly schedule")
    ap.add_argument("--lr", type=float, default=5e-4, help="a new plan's peak learning rate")
    ap.add_argument("--decoder-lr-mult", type=float, default=5.0, help="a new plan's learning-rate factor for the decoder")
    ap.add_argument("--warmup", type=int, default=100, help="a new plan's linear warm-up, in iterations")
    ap.add_argument("--full-size-share", type=float, default=0.15, help="last share of the plan on full 512x256 frames")
    ap.add_argument("--minutes", type=float, default=0.0, help="stop this run after this many minutes (0: no limit)")
    ap.add_argument("--iterations", type=int, default=0, help="stop this run after this many iterations (0: no limit)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", default="384x192")
    ap.add_argument("--rare-share", type=float, default=0.4, help="share of crops centred on a rare class")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--threads", type=int, default=2, help="never 1: about 10x slower than 2 on two cores")
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0)
    ap.add_argument("--snapshot-minutes", type=float, default=30.0, help="validation of the EMA weights")
    ap.add_argument("--val-count", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bn-momentum", type=float, default=0.1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    t_load = time.time()
    sets = [common.load_split(d) for d in args.train]
    images = np.concatenate([s[0] for s in sets]) if len(sets) > 1 else sets[0][0]
    labels = np.concatenate([s[1] for s in sets]) if len(sets) > 1 else sets[0][1]
    val_images, val_labels = common.load_split(args.val)
    val_images, val_labels = val_images[:args.val_count], val_labels[:args.val_count]
    weights, freq = class_weights(labels)
    rare = rare_index(labels)
    print(f"loaded {len(images)} training and {len(val_images)} validation frames in {time.time() - t_load:.0f} s", flush=True)
    print("class weights:", " ".join(f"{c}={w:.2f}" for c, w in zip(common.CLASSES, weights.tolist())), flush=True)
    print("rare-class frames:", " ".join(f"{common.CLASSES[c]}={len(v)}" for c, v in rare.items()), flush=True)

    model = common.build_model()
    ckpt = None
    rewarm_until = 0
    if args.resume:
        ckpt = torch.load(args.resume, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        plan, plan_it = ckpt["plan"], ckpt["plan_iteration"]
        it_total, minutes_total = ckpt["iterations"], ckpt["minutes"]
        dataset_seeds = list(ckpt.get("dataset_seeds", []))
        print(f"resumed {args.resume}: plan iteration {plan_it} of {plan['iterations']}, "
              f"{it_total} iterations and {minutes_total:.1f} min in all", flush=True)
    else:
        if not args.init:
            raise SystemExit("give --resume CHECKPOINT (continue a plan) or --init CHECKPOINT (start one)")
        init = torch.load(args.init, map_location="cpu")
        missing, unexpected = model.load_state_dict(init["model"], strict=False)
        if unexpected or any(not k.startswith("decoder.") for k in missing):
            raise SystemExit(f"{args.init} does not fit the model: missing {missing}, unexpected {unexpected}")
        if missing:
            print(f"{args.init}: encoder weights only; the decoder starts as a zero residual", flush=True)
        it_total, minutes_total = init.get("iterations", 0), init.get("minutes", 0.0)
        dataset_seeds = list(init.get("dataset_seeds", []))
        if "plan" in init and not args.new_plan:
            # Rebuilt from a file exported in the middle of a plan: go on along that schedule. The
            # optimizer's moments are gone, so the learning rate ramps up again over --warmup iterations.
            plan, plan_it = init["plan"], init["plan_iteration"]
            rewarm_until = plan_it + args.warmup
            print(f"continuing the plan recorded in {args.init} at iteration {plan_it} of {plan['iterations']} "
                  f"with a fresh optimizer (learning rate ramps up again until iteration {rewarm_until}): {plan}", flush=True)
        else:
            plan = {"iterations": args.plan_iterations, "lr": args.lr, "decoder_lr_mult": args.decoder_lr_mult,
                    "warmup": args.warmup, "full_size_share": args.full_size_share, "started": time.strftime("%Y-%m-%d")}
            plan_it = 0
            print(f"new plan: {plan}", flush=True)

    dataset_seeds += [s for s in args.dataset_seed if s not in dataset_seeds]
    print(f"dataset seeds trained on, this run's included: {dataset_seeds}", flush=True)

    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = args.bn_momentum
    model = model.to(memory_format=torch.channels_last)
    model.train()
    new = {id(p) for p in model.new_parameters()}
    groups = [
        {"params": [p for p in model.parameters() if id(p) not in new], "mult": 1.0},
        {"params": [p for p in model.parameters() if id(p) in new], "mult": plan["decoder_lr_mult"]},
    ]
    opt = torch.optim.AdamW(groups, lr=plan["lr"], weight_decay=1e-4)
    ema = Ema(model, args.ema)
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        ema.state = ckpt["ema"]
    seed = args.seed * 1000003 + plan_it
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)

    stop = {"signal": None}

    def on_signal(signum, _):
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    crop_w, crop_h = (int(v) for v in args.crop.split("x"))
    start = time.time()
    last_ckpt = last_snapshot = start
    it = 0
    loss_avg = None

    def save(reason):
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "ema": ema.state, "plan": plan,
                 "plan_iteration": plan_it, "iterations": it_total + it,
                 "minutes": minutes_total + (time.time() - start) / 60, "train": args.train,
                 "dataset_seeds": dataset_seeds}
        path = os.path.join(args.out, "last.pt")
        torch.save(state, path + ".tmp")
        os.replace(path + ".tmp", path)
        print(f"[checkpoint] {reason}: plan iteration {plan_it}, {path}", flush=True)

    while plan_it < plan["iterations"]:
        elapsed = time.time() - start
        if stop["signal"] is not None or (args.minutes and elapsed >= args.minutes * 60) or (args.iterations and it >= args.iterations):
            break
        lr = plan_lr(plan, plan_it)
        if plan_it < rewarm_until:
            lr *= (plan_it + 1 - (rewarm_until - args.warmup)) / args.warmup
        for g in opt.param_groups:
            g["lr"] = lr * g["mult"]
        full = plan_it >= plan["iterations"] * (1.0 - plan["full_size_share"])
        if full:
            x, y = random_batch(rng, images, labels, rare, max(2, args.batch // 2), common.WIDTH, common.HEIGHT, args.rare_share / 2)
        else:
            x, y = random_batch(rng, images, labels, rare, args.batch, crop_w, crop_h, args.rare_share)
        x = x.contiguous(memory_format=torch.channels_last)
        out = model(x)["out"]
        loss = F.cross_entropy(out, y, weight=weights, ignore_index=common.IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema.update(model)
        it += 1
        plan_it += 1
        loss_avg = loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.item()
        if it % 25 == 0:
            print(f"it {plan_it}/{plan['iterations']} t {elapsed / 60:.1f} min {elapsed / it:.2f} s/it lr {lr:.2e} "
                  f"loss {loss_avg:.4f} {'full' if full else 'crop'}", flush=True)
        now = time.time()
        if now - last_ckpt >= args.checkpoint_minutes * 60:
            last_ckpt = now
            save("periodic")
        if now - last_snapshot >= args.snapshot_minutes * 60:
            last_snapshot = now
            snapshot(ema, val_images, val_labels, plan_it)

    total = time.time() - start
    why = f"signal {stop['signal']}" if stop["signal"] is not None else "end of run"
    print(f"stopped ({why}): {it} iterations in {total / 60:.1f} min, {total / max(it, 1):.2f} s/it; "
          f"plan iteration {plan_it} of {plan['iterations']}", flush=True)
    save(why)


def snapshot(ema, val_images, val_labels, plan_it):
    """Validation of the EMA weights as they are (running BatchNorm statistics, no re-estimate)."""
    model = common.build_model()
    model.load_state_dict(ema.state)
    miou, acc, iou, present = evaluate(model, val_images, val_labels)
    per = " ".join(f"{c}={v:.2f}" for c, v, p in zip(common.CLASSES, iou, present) if p)
    print(f"[snapshot] plan iteration {plan_it} EMA val mIoU {miou:.4f} acc {acc:.4f} | {per}", flush=True)


if __name__ == "__main__":
    main()
