#!/usr/bin/env python3
"""Makes a dense-CRF reference set in the format of shared/reference/crf (see its README) from scenes that
EdgeSeg renders, so that the CRF acceptance (tests/EdgeSeg.Pipeline.Tests/Refinement/CrfReferenceTests.cs)
can be run on scenes it has never seen:

    EDGESEG_SHARED_DIR=crf-set dotnet test tests/EdgeSeg.Pipeline.Tests --filter CrfReferenceTests

The reference labels come from pydensecrf, the Python binding of the fully connected CRF of Krähenbühl and
Koltun that the shared set was made with. It is not a dependency of EdgeSeg and no package of the
distribution carries it: build it from its public source (Cython from Debian's cython3) and put it on
PYTHONPATH. `--check DIR` first reproduces an existing set (the shared one: every label equal), which shows
that the unary and the CRF parameters here are the set's own.

    edgeseg dataset render --count 30 --size 1024x512 --seed 777001 --out crf-frames
    PYTHONPATH=PYDENSECRF_DIR /usr/bin/python3 tests/tools/crf_reference_set.py \\
        --check ../shared/reference/crf/case0 --frames crf-frames --out crf-set/reference/crf

Each case is a random 512x256 window of a 1024x512 frame (objects twice the size they have in a 512x256
render), with a coarse score map at output stride 8 made from the ground truth: GAIN times the class
fractions of each 8x8 cell, patchy Gaussian noise (drawn at stride 16 and upsampled) plus white noise of half
its sigma, and BLOBS discs of a wrong class. A frame on which the reference CRF itself lowers trimap-2
accuracy is left out and said: the acceptance compares the project's CRF with the reference's gains.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import pydensecrf.densecrf as dcrf

CLASSES, GRID_H, GRID_W = 19, 32, 64


def unary_and_raw(logits, h, w):
    """Bilinear upsampling with half-pixel centres, softmax, -log(p) with p clipped at 1e-8, and the argmax."""
    up = F.interpolate(torch.from_numpy(logits), size=(h, w), mode="bilinear", align_corners=False)[0]
    p = torch.softmax(up, 0).numpy()
    return -np.log(np.clip(p, 1e-8, None)).astype(np.float32), up.argmax(0).numpy().astype(np.uint8)


def reference_crf(image_rgb, unary, iterations=10):
    """The shared set's parameters: appearance w1 10, theta_alpha 80, theta_beta 13; smoothness w2 3, theta_gamma 3; Potts."""
    c, h, w = unary.shape
    crf = dcrf.DenseCRF2D(w, h, c)
    crf.setUnaryEnergy(np.ascontiguousarray(unary.reshape(c, -1)))
    crf.addPairwiseGaussian(sxy=3, compat=3)
    crf.addPairwiseBilateral(sxy=80, srgb=13, rgbim=np.ascontiguousarray(image_rgb), compat=10)
    return np.array(crf.inference(iterations)).reshape(c, h, w).argmax(0).astype(np.uint8)


def boundary_band(gt, radius):
    """Pixels within RADIUS (Euclidean) of a label change of the ground truth."""
    edge = np.zeros(gt.shape, bool)
    dx = gt[:, 1:] != gt[:, :-1]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    dy = gt[1:, :] != gt[:-1, :]
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    band = np.zeros_like(edge)
    h, w = gt.shape
    for oy in range(-radius, radius + 1):
        for ox in range(-radius, radius + 1):
            if ox * ox + oy * oy <= radius * radius:
                shifted = np.zeros_like(edge)
                shifted[max(0, oy):h - max(0, -oy), max(0, ox):w - max(0, -ox)] = \
                    edge[max(0, -oy):h - max(0, oy), max(0, -ox):w - max(0, ox)]
                band |= shifted
    return band


def mean_iou(gt, pred):
    """Mean IoU over the classes present in the ground truth."""
    return float(np.mean([np.sum((gt == c) & (pred == c)) / np.sum((gt == c) | (pred == c)) for c in np.unique(gt)]))


def check(case):
    image = np.array(Image.open(os.path.join(case, "image.png")).convert("RGB"))
    h, w = image.shape[:2]
    logits = np.fromfile(os.path.join(case, f"logits_1x{CLASSES}x{GRID_H}x{GRID_W}.f32"), dtype="<f4")
    unary, raw = unary_and_raw(logits.reshape(1, CLASSES, GRID_H, GRID_W), h, w)
    labels = reference_crf(image, unary)
    same_raw = (raw == np.array(Image.open(os.path.join(case, "raw_argmax.png")))).mean()
    same_crf = (labels == np.array(Image.open(os.path.join(case, "densecrf.png")))).mean()
    print(f"{case}: raw argmax {same_raw:.2%} and CRF labels {same_crf:.2%} equal to the set's")
    if same_raw < 1 or same_crf < 0.9999:
        raise SystemExit("this pipeline does not reproduce the set; fix it before making a new one")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", required=True, help="a folder written by 'edgeseg dataset render' (images/, labels/)")
    ap.add_argument("--out", required=True, help="where case0..caseN-1 go")
    ap.add_argument("--cases", type=int, default=6)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--gain", type=float, default=5.0)
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--blobs", type=int, default=6)
    ap.add_argument("--check", default="", help="a case of an existing set to reproduce first")
    args = ap.parse_args()
    if args.check:
        check(args.check)

    rng = np.random.default_rng(args.seed)
    rows = []
    for name in sorted(os.listdir(os.path.join(args.frames, "images"))):
        if len(rows) == args.cases:
            break
        image = np.array(Image.open(os.path.join(args.frames, "images", name)).convert("RGB"))
        gt = np.array(Image.open(os.path.join(args.frames, "labels", name)))
        oy, ox = rng.integers(0, image.shape[0] - 256 + 1), rng.integers(0, image.shape[1] - 512 + 1)
        image = np.ascontiguousarray(image[oy:oy + 256, ox:ox + 512])
        gt = np.ascontiguousarray(gt[oy:oy + 256, ox:ox + 512])
        h, w = gt.shape

        onehot = np.eye(CLASSES, dtype=np.float32)[np.minimum(gt, CLASSES - 1)].transpose(2, 0, 1)[None]
        fractions = F.avg_pool2d(torch.from_numpy(onehot), h // GRID_H).numpy()
        patches = torch.from_numpy(rng.normal(0, args.sigma, (1, CLASSES, GRID_H // 2, GRID_W // 2)).astype(np.float32))
        patches = F.interpolate(patches, size=(GRID_H, GRID_W), mode="bilinear", align_corners=False).numpy()
        logits = args.gain * fractions + patches + rng.normal(0, args.sigma / 2, fractions.shape).astype(np.float32)
        yy, xx = np.ogrid[:GRID_H, :GRID_W]
        for _ in range(args.blobs):
            cy, cx, r, c = rng.integers(0, GRID_H), rng.integers(0, GRID_W), rng.integers(1, 4), rng.integers(0, CLASSES)
            logits[0, c][(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] += 3.0
        logits = logits.astype("<f4")

        unary, raw = unary_and_raw(logits, h, w)
        labels = reference_crf(image, unary)
        band = boundary_band(gt, 2)
        row = (mean_iou(gt, raw), mean_iou(gt, labels), (raw == gt)[band].mean(), (labels == gt)[band].mean())
        if row[3] <= row[2]:
            print(f"{name}: left out, the reference CRF lowers trimap-2 {row[2]:.3f} -> {row[3]:.3f}")
            continue
        case = os.path.join(args.out, f"case{len(rows)}")
        os.makedirs(case, exist_ok=True)
        Image.fromarray(image).save(os.path.join(case, "image.png"))
        Image.fromarray(gt).save(os.path.join(case, "gt.png"))
        logits.tofile(os.path.join(case, f"logits_1x{CLASSES}x{GRID_H}x{GRID_W}.f32"))
        Image.fromarray(raw).save(os.path.join(case, "raw_argmax.png"))
        Image.fromarray(labels).save(os.path.join(case, "densecrf.png"))
        print(f"case{len(rows)} ({name}): mIoU {row[0]:.3f} -> {row[1]:.3f}, trimap-2 {row[2]:.3f} -> {row[3]:.3f}")
        rows.append(row)
    if len(rows) < args.cases:
        raise SystemExit(f"only {len(rows)} of {args.cases} cases: render more frames")
    m = np.mean(rows, 0)
    print(f"mean over {len(rows)} cases: mIoU {m[0]:.3f} -> {m[1]:.3f}, trimap-2 {m[2]:.3f} -> {m[3]:.3f}")


if __name__ == "__main__":
    main()
