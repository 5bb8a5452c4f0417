"""Trains the bundled street model (DeepLabV3+) on rendered scenes; see README.md for the plan and commands.

Training spans several runs of a few hours each, any of which may be cut short. So:

- the learning rate follows ONE poly schedule counted in iterations (the plan), stored in the
  checkpoint with the optimizer state, the EMA weights and the iteration reached; `--resume` picks it
  up exactly where the last run left off, whatever the machine's speed;
- a checkpoint is written every `--checkpoint-minutes` and when the process is told to stop
  (SIGTERM/SIGINT), outside the repository (`--out`);
- the last `full_size_share` of the plan trains on full 512x256 frames.

On a CUDA device (`--device`), the training set is held on the GPU as uint8 tensors and each batch is
cut, flipped, normalised and jittered there (GpuBatches), so that assembling batches on the CPU never
starves the GPU; `--amp bf16|fp16` runs the forward pass under autocast (the loss stays float32).
`--plan-iterations 0` with `--minutes` sizes a new plan to the run: its length is set after timing the
first `--plan-timing` iterations, so the schedule (warm-up, poly decay, full-frame phase) ends when the
minutes do.
"""
import argparse
import contextlib
import os
import signal
import time

import numpy as np
import torch
import torch.nn.functional as F

import common

# Classes under 0.5 % of the pixels: crops are centred on one of their pixels for a share of each batch.
RARE = ["pole", "traffic light", "traffic sign", "person", "rider", "truck", "bus", "train", "motorcycle", "bicycle"]


def frame_counts(labels, chunk=500):
    """The pixel count of every label value (0-255) in every frame: an (N, 256) int64 array, the one
    pass over the labels that class_weights and rare_index both read."""
    counts = np.empty((len(labels), 256), np.int64)
    for i in range(0, len(labels), chunk):
        block = np.asarray(labels[i:i + chunk]).reshape(min(chunk, len(labels) - i), -1)
        for k, row in enumerate(block):
            counts[i + k] = np.bincount(row, minlength=256)
    return counts


def class_weights(counts, n=common.NUM_CLASSES, cap=10.0):
    """Square-root inverse frequency, relative to the median class, capped, from frame_counts.

    ENet's 1/ln(1.02 + p) capped at 30 made the model over-predict pole and traffic light (precision
    0.41 and 0.26); the square root weighs rare classes up without buying recall with that much precision."""
    counts = np.asarray(counts, np.float64).sum(0)[:n]
    p = counts / counts.sum()
    present = counts > 0
    w = np.zeros(n)
    w[present] = np.sqrt(np.median(p[present]) / p[present])
    w = np.minimum(w, cap)
    return torch.tensor(w / w[present].mean(), dtype=torch.float32), p


def rare_index(counts):
    """For each rare class, the frames that hold at least 64 of its pixels (from frame_counts)."""
    ids = [common.CLASSES.index(c) for c in RARE]
    frames = {c: np.nonzero(counts[:, c] >= 64)[0] for c in ids}
    return {c: v for c, v in frames.items() if len(v)}


class GpuBatches:
    """The training set on a CUDA device as uint8 tensors, and random_batch's batches cut there.

    The same recipe as random_batch (crops anywhere or, for rare_share of them, centred on a pixel of a
    rare class picked uniformly at random, then flips, normalisation and gain/bias jitter), but every
    pixel operation runs on the GPU: the CPU only draws a few numbers per crop. The per-frame class
    counts (frame_counts' array, for class_weights and rare_index) are measured on the GPU too."""

    def __init__(self, images, labels, device, chunk=500):
        n, h, w = labels.shape
        self.device = device
        self.images = torch.empty((n, h, w, 3), dtype=torch.uint8, device=device)
        self.labels = torch.empty((n, h, w), dtype=torch.uint8, device=device)
        counts = torch.zeros((n, 256), dtype=torch.int64, device=device)
        for i in range(0, n, chunk):
            j = min(n, i + chunk)
            self.images[i:j].copy_(torch.from_numpy(np.array(images[i:j])))
            lb = torch.from_numpy(np.array(labels[i:j])).to(device)
            self.labels[i:j].copy_(lb)
            idx = lb.view(j - i, -1).long() + 256 * torch.arange(j - i, device=device).view(-1, 1)
            counts[i:j] = torch.bincount(idx.view(-1), minlength=256 * (j - i)).view(j - i, 256)
        self.counts = counts.cpu().numpy()

    def batch(self, rng, rare, batch, crop_w, crop_h, rare_share):
        n, h, w = self.labels.shape
        dev = self.device
        frames = np.empty(batch, np.int64)
        cls = np.full(batch, -1, np.int64)
        classes = list(rare)
        for k in range(batch):
            if classes and rng.random() < rare_share:
                c = classes[rng.integers(len(classes))]
                frames[k] = rare[c][rng.integers(len(rare[c]))]
                cls[k] = c
            else:
                frames[k] = rng.integers(n)
        y0 = rng.integers(0, h - crop_h + 1, batch)
        x0 = rng.integers(0, w - crop_w + 1, batch)
        jy = rng.integers(-(crop_h // 4), crop_h // 4 + 1, batch)
        jx = rng.integers(-(crop_w // 4), crop_w // 4 + 1, batch)
        flip = rng.random(batch) < 0.5
        gain = rng.uniform(0.8, 1.2, batch).astype(np.float32)
        bias = rng.uniform(-0.2, 0.2, batch).astype(np.float32)

        f = torch.from_numpy(frames).to(dev)
        y0_t = torch.from_numpy(y0).to(dev)
        x0_t = torch.from_numpy(x0).to(dev)
        sel = np.nonzero(cls >= 0)[0]
        if len(sel):
            s = torch.from_numpy(sel).to(dev)
            lab = self.labels[f[s]]
            want = torch.from_numpy(cls[sel]).to(dev).view(-1, 1, 1)
            # A uniformly random pixel of the class: the largest of uniform scores over its pixels.
            score = torch.rand(lab.shape, device=dev) * (lab.long() == want)
            pos = score.view(len(sel), -1).argmax(1)
            yy, xx = pos // w, pos % w
            y0_t[s] = (yy - crop_h // 2 + torch.from_numpy(jy[sel]).to(dev)).clamp(0, h - crop_h)
            x0_t[s] = (xx - crop_w // 2 + torch.from_numpy(jx[sel]).to(dev)).clamp(0, w - crop_w)
        ar_y = torch.arange(crop_h, device=dev)
        ar_x = torch.arange(crop_w, device=dev)
        ys = y0_t.view(-1, 1) + ar_y
        xs = torch.where(torch.from_numpy(flip).to(dev).view(-1, 1), x0_t.view(-1, 1) + (crop_w - 1 - ar_x), x0_t.view(-1, 1) + ar_x)
        fi, yi, xi = f.view(-1, 1, 1), ys.view(batch, crop_h, 1), xs.view(batch, 1, crop_w)
        x = common.normalise(self.images[fi, yi, xi])
        x = x * torch.from_numpy(gain).to(dev).view(-1, 1, 1, 1) + torch.from_numpy(bias).to(dev).view(-1, 1, 1, 1)
        return x, self.labels[fi, yi, xi].long()


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


def evaluate(model, images, labels, batch=4, device=None):
    """mIoU, pixel accuracy, per-class IoU and presence on the frames; the model runs where it is
    (device: where the frames are sent, None for the CPU)."""
    model.eval()
    conf = np.zeros((common.NUM_CLASSES, common.NUM_CLASSES), np.int64)
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out = model(common.normalise(images[i:i + batch], device))["out"]
            pred = out.argmax(1).cpu().numpy().astype(np.uint8)
            conf += common.confusion(pred, np.asarray(labels[i:i + batch]))
    model.train()
    tp = np.diag(conf).astype(np.float64)
    present = conf.sum(1) > 0
    iou = tp / np.maximum(conf.sum(0) + conf.sum(1) - tp, 1)
    return iou[present].mean(), tp.sum() / max(conf.sum(), 1), iou, present


class Ema:
    """Exponential moving average of the weights (BatchNorm statistics are re-estimated at export)."""

    def __init__(self, model, decay, fused=False):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        # fused (on a GPU): one multi-tensor update for all floating-point entries instead of two
        # kernel launches per tensor; the same arithmetic.
        self.fused = fused and hasattr(torch, "_foreach_mul_")
        self.lists = None

    def load(self, state, device):
        self.state = {k: v.to(device) for k, v in state.items()}
        self.lists = None

    @torch.no_grad()
    def update(self, model):
        if self.fused:
            sd = model.state_dict()
            if self.lists is None:
                fk = [k for k, v in sd.items() if v.dtype.is_floating_point]
                ik = [k for k, v in sd.items() if not v.dtype.is_floating_point]
                self.lists = ([self.state[k] for k in fk], fk, [self.state[k] for k in ik], ik)
            ema_f, fk, ema_i, ik = self.lists
            torch._foreach_mul_(ema_f, self.decay)
            torch._foreach_add_(ema_f, [sd[k] for k in fk], alpha=1.0 - self.decay)
            for e, k in zip(ema_i, ik):
                e.copy_(sd[k])
            return
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:
                self.state[k].copy_(v)


def to_cpu(obj):
    """The same nested structure with every tensor on the CPU (checkpoints load anywhere)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return type(obj)((k, to_cpu(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


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
    ap.add_argument("--plan-iterations", type=int, default=24000,
                    help="length of a new plan's poly schedule; 0 with --minutes: sized to this run after timing its first --plan-timing iterations")
    ap.add_argument("--plan-timing", type=int, default=60, help="with --plan-iterations 0: iterations timed before the plan's length is set")
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
    common.add_device_argument(ap)
    ap.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"],
                    help="on cuda: autocast of the forward pass to this type (the loss stays float32)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    device = common.pick_device(args.device)
    cuda = device.type == "cuda"
    if args.amp != "none" and not cuda:
        raise SystemExit("--amp is for --device cuda")
    if args.plan_iterations <= 0 and not args.minutes:
        raise SystemExit("--plan-iterations 0 sizes the plan to --minutes: give --minutes")
    os.makedirs(args.out, exist_ok=True)
    print(f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if cuda else ''}, model from {common.BACKEND}"
          f"{', autocast ' + args.amp if args.amp != 'none' else ''}", flush=True)

    t_load = time.time()
    sets = [common.load_split(d) for d in args.train]
    images = np.concatenate([s[0] for s in sets]) if len(sets) > 1 else sets[0][0]
    labels = np.concatenate([s[1] for s in sets]) if len(sets) > 1 else sets[0][1]
    val_images, val_labels = common.load_split(args.val)
    val_images, val_labels = val_images[:args.val_count], val_labels[:args.val_count]
    gpu_batches = GpuBatches(images, labels, device) if cuda else None
    counts = gpu_batches.counts if cuda else frame_counts(labels)
    weights, freq = class_weights(counts)
    rare = rare_index(counts)
    print(f"loaded {len(images)} training and {len(val_images)} validation frames in {time.time() - t_load:.0f} s", flush=True)
    print("class weights:", " ".join(f"{c}={w:.2f}" for c, w in zip(common.CLASSES, weights.tolist())), flush=True)
    print("rare-class frames:", " ".join(f"{common.CLASSES[c]}={len(v)}" for c, v in rare.items()), flush=True)

    model = common.build_model()
    ckpt = None
    rewarm_until = 0
    if args.resume:
        ckpt = common.load_checkpoint(args.resume)
        model.load_state_dict(ckpt["model"])
        plan, plan_it = ckpt["plan"], ckpt["plan_iteration"]
        it_total, minutes_total = ckpt["iterations"], ckpt["minutes"]
        dataset_seeds = list(ckpt.get("dataset_seeds", []))
        print(f"resumed {args.resume}: plan iteration {plan_it} of {plan['iterations']}, "
              f"{it_total} iterations and {minutes_total:.1f} min in all", flush=True)
    else:
        if not args.init:
            raise SystemExit("give --resume CHECKPOINT (continue a plan) or --init CHECKPOINT (start one)")
        init = common.load_checkpoint(args.init)
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
            # A plan sized to this run starts with a provisional length (set after --plan-timing iterations).
            plan = {"iterations": args.plan_iterations if args.plan_iterations > 0 else 10 ** 9,
                    "lr": args.lr, "decoder_lr_mult": args.decoder_lr_mult,
                    "warmup": args.warmup, "full_size_share": args.full_size_share, "started": time.strftime("%Y-%m-%d")}
            plan_it = 0
            print(f"new plan: {plan}" if args.plan_iterations > 0 else
                  f"new plan, its length set after timing {args.plan_timing} iterations: {plan}", flush=True)

    dataset_seeds += [s for s in args.dataset_seed if s not in dataset_seeds]
    print(f"dataset seeds trained on, this run's included: {dataset_seeds}", flush=True)

    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = args.bn_momentum
    model = model.to(device).to(memory_format=torch.channels_last)
    weights = weights.to(device)
    model.train()
    new = {id(p) for p in model.new_parameters()}
    groups = [
        {"params": [p for p in model.parameters() if id(p) not in new], "mult": 1.0},
        {"params": [p for p in model.parameters() if id(p) in new], "mult": plan["decoder_lr_mult"]},
    ]
    opt = torch.optim.AdamW(groups, lr=plan["lr"], weight_decay=1e-4)
    ema = Ema(model, args.ema, fused=cuda)
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        if cuda:
            ema.load(ckpt["ema"], device)
        else:
            ema.state = ckpt["ema"]
    sized = plan["iterations"] < 10 ** 9  # a plan of --plan-iterations 0 not yet timed
    amp_dtype = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.amp]
    if amp_dtype is torch.float16:
        scaler = torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()
    else:
        scaler = None
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
    timing_start = None

    def save(reason):
        state = {"model": to_cpu(model.state_dict()), "optimizer": to_cpu(opt.state_dict()), "ema": to_cpu(ema.state), "plan": plan,
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
        batch_fn = gpu_batches.batch if cuda else (lambda *a: random_batch(a[0], images, labels, *a[1:]))
        if full:
            x, y = batch_fn(rng, rare, max(2, args.batch // 2), common.WIDTH, common.HEIGHT, args.rare_share / 2)
        else:
            x, y = batch_fn(rng, rare, args.batch, crop_w, crop_h, args.rare_share)
        x = x.contiguous(memory_format=torch.channels_last)
        if amp_dtype is None:
            ctx = contextlib.nullcontext()
        else:
            ctx = torch.autocast(device_type="cuda", dtype=amp_dtype)
        with ctx:
            out = model(x)["out"]
        loss = F.cross_entropy(out.float(), y, weight=weights, ignore_index=common.IGNORE)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        ema.update(model)
        it += 1
        plan_it += 1
        if cuda:
            # No host synchronisation per iteration: the average stays on the GPU until printed.
            loss_avg = loss.detach() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.detach()
        else:
            loss_avg = loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.item()
        if not sized and it == args.plan_timing:
            if cuda:
                torch.cuda.synchronize()
            if timing_start is None:
                raise SystemExit("--plan-timing must be above 10")
            rate = (time.time() - timing_start) / (it - 10)
            left = args.minutes * 60 - (time.time() - start)
            plan["iterations"] = plan_it + max(1, int(0.97 * left / rate))
            sized = True
            print(f"plan sized to this run: {rate:.3f} s/it over iterations 11-{it}, {left:.0f} s left: "
                  f"{plan['iterations']} iterations (full frames from {int(plan['iterations'] * (1 - plan['full_size_share']))})", flush=True)
        if not sized and it == 10:
            if cuda:
                torch.cuda.synchronize()
            timing_start = time.time()
        if it % 25 == 0:
            print(f"it {plan_it}/{plan['iterations']} t {elapsed / 60:.1f} min {elapsed / it:.2f} s/it lr {lr:.2e} "
                  f"loss {float(loss_avg):.4f} {'full' if full else 'crop'}", flush=True)
        now = time.time()
        if now - last_ckpt >= args.checkpoint_minutes * 60:
            last_ckpt = now
            save("periodic")
        if now - last_snapshot >= args.snapshot_minutes * 60:
            last_snapshot = now
            snapshot(ema, val_images, val_labels, plan_it, device)

    total = time.time() - start
    if not sized:
        # A plan to be sized to this run that stopped before it was timed: it ends where it got to.
        plan["iterations"] = plan_it
        print(f"the run stopped before its plan was sized: the plan ends at iteration {plan_it}", flush=True)
    why = f"signal {stop['signal']}" if stop["signal"] is not None else "end of run"
    print(f"stopped ({why}): {it} iterations in {total / 60:.1f} min, {total / max(it, 1):.2f} s/it; "
          f"plan iteration {plan_it} of {plan['iterations']}", flush=True)
    save(why)


def snapshot(ema, val_images, val_labels, plan_it, device=None):
    """Validation of the EMA weights as they are (running BatchNorm statistics, no re-estimate)."""
    model = common.build_model()
    model.load_state_dict(ema.state)
    on_gpu = device is not None and device.type != "cpu"
    if on_gpu:
        model.to(device)
    miou, acc, iou, present = evaluate(model, val_images, val_labels, device=device if on_gpu else None)
    per = " ".join(f"{c}={v:.2f}" for c, v, p in zip(common.CLASSES, iou, present) if p)
    print(f"[snapshot] plan iteration {plan_it} EMA val mIoU {miou:.4f} acc {acc:.4f} | {per}", flush=True)


if __name__ == "__main__":
    main()
