"""Checks that the plain-torch model (mobilenet_v3.py, used when torchvision is missing) is torchvision's.

  /usr/bin/python3 check_fallback.py [--checkpoint CKPT] [--val data/val --count 8]

Needs torchvision (to compare against). Compares, for common.build_model() and the encoder alone:
the state_dict keys and shapes; the outputs in eval mode for the same weights (random weights with
random BatchNorm statistics and a non-zero decoder, or CKPT's) on a random input and on validation
frames (largest difference, argmax agreement, mIoU); and the ONNX files exported from both (the
sequence of node operators and attributes, and the initializers). Exits non-zero on any mismatch.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import common


def randomise(model, seed=0):
    """Weights, BatchNorm statistics and the (zero-initialised) decoder classifier all random."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.dtype.is_floating_point:
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            elif name.endswith("weight") and t.dim() == 1:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                fan_in = max(1, t[0].numel())
                t.copy_(torch.randn(t.shape, generator=g) * (1.0 / fan_in) ** 0.5)


def graph_signature(path):
    g = onnx.load(path).graph
    nodes = [(n.op_type, tuple(sorted((a.name, str(onnx.helper.get_attribute_value(a))) for a in n.attribute
                                      if a.name != "value"))) for n in g.node]
    inits = [numpy_helper.to_array(i) for i in g.initializer]
    return nodes, inits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="", help="compare with these weights instead of random ones")
    ap.add_argument("--val", default="data/val", help="validation frames (skipped when absent)")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        common.torchvision_builders()
    except Exception as e:
        raise SystemExit(f"torchvision does not import here ({e}): nothing to compare the fallback with")
    failures = []

    for decoder in (True, False):
        what = "DeepLabV3+" if decoder else "encoder only"
        tv = common.build_model(decoder=decoder, backend="torchvision")
        plain = common.build_model(decoder=decoder, backend="plain")
        a, b = tv.state_dict(), plain.state_dict()
        same_keys = list(a) == list(b)
        same_shapes = same_keys and all(a[k].shape == b[k].shape and a[k].dtype == b[k].dtype for k in a)
        print(f"{what}: {len(a)} state_dict entries; keys {'identical (same order)' if same_keys else 'DIFFERENT'}, "
              f"shapes and dtypes {'identical' if same_shapes else 'DIFFERENT'}")
        if not same_shapes:
            print("  only torchvision:", sorted(set(a) - set(b))[:10], " only plain:", sorted(set(b) - set(a))[:10])
            failures.append(f"{what}: state_dict")
            continue
        if args.checkpoint and decoder:
            tv.load_state_dict(common.load_checkpoint(args.checkpoint)["model"])
        else:
            randomise(tv)
        plain.load_state_dict(tv.state_dict())
        tv.eval()
        plain.eval()
        with torch.no_grad():
            x = torch.randn(2, 3, common.HEIGHT, common.WIDTH, generator=torch.Generator().manual_seed(1))
            ya, yb = tv(x)["out"], plain(x)["out"]
        diff = float((ya - yb).abs().max())
        print(f"{what}: eval-mode output on a random input, largest difference {diff:.2e} (logits up to {float(ya.abs().max()):.1f})")
        if diff > 1e-4:
            failures.append(f"{what}: outputs differ by {diff}")

        if decoder and os.path.exists(os.path.join(args.val, "images.npy")) or decoder and os.path.isdir(os.path.join(args.val, "images")):
            from train import evaluate
            images, labels = common.load_split(args.val)
            images, labels = images[:args.count], labels[:args.count]
            with torch.no_grad():
                xa = common.normalise(images)
                pa, pb = tv(xa)["out"], plain(xa)["out"]
            agree = float((pa.argmax(1) == pb.argmax(1)).float().mean())
            ma, mb = evaluate(tv, images, labels)[0], evaluate(plain, images, labels)[0]
            print(f"{what}: {len(images)} validation frames: largest difference {float((pa - pb).abs().max()):.2e}, "
                  f"argmax agreement {agree:.6f}, mIoU {ma:.4f} (torchvision) and {mb:.4f} (plain)")
            if agree < 0.9999 or abs(ma - mb) > 1e-4:
                failures.append(f"{what}: validation frames differ")

        if decoder:
            with tempfile.TemporaryDirectory() as tmp:
                pa_path, pb_path = os.path.join(tmp, "tv.onnx"), os.path.join(tmp, "plain.onnx")
                common.export_onnx(tv, pa_path)
                common.export_onnx(plain, pb_path)
                (na, ia), (nb, ib) = graph_signature(pa_path), graph_signature(pb_path)
                same_nodes = na == nb
                same_inits = len(ia) == len(ib) and all(u.shape == v.shape and np.array_equal(u, v) for u, v in zip(ia, ib))
                ops = sorted({n[0] for n in na})
                print(f"{what}: ONNX export: {len(na)} nodes ({', '.join(ops)}); node operators and attributes "
                      f"{'identical' if same_nodes else 'DIFFERENT'}; {len(ia)} initializers {'identical' if same_inits else 'DIFFERENT'}")
                if not (same_nodes and same_inits):
                    failures.append(f"{what}: ONNX graphs differ")
                from onnx_torch import OnnxTorchRunner
                ra = OnnxTorchRunner(pa_path).run(x[:1])
                rb = OnnxTorchRunner(pb_path).run(x[:1])
                print(f"{what}: the two ONNX files run by onnx_torch.py: largest difference {float((ra - rb).abs().max()):.2e}, "
                      f"against the torch model {float((ra - ya[:1]).abs().max()):.2e}")

    print("fallback check:", "PASSED" if not failures else "FAILED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
