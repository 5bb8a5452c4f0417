"""Turns an exported model file back into a training checkpoint, so training can continue from it.

The ONNX export folds every BatchNorm into the convolution before it (W' = W * g / s,
b' = beta + (b - mu) * g / s), so the file holds only the folded weights. This script puts them
back into the torchvision layout of common.build_model():

- each convolution gets the folded weight W';
- the BatchNorm after it gets running statistics measured on training frames: the mean mu and
  variance s^2 of W' x, with gamma = sqrt(s^2 + eps) and beta = mu + b'.

In eval mode that BatchNorm computes (W'x - mu) / sqrt(s^2 + eps) * gamma + beta = W'x + b', so the
checkpoint is exactly the exported function (checked against the ONNX graph itself); in training mode
the batch statistics are close to mu and s, so training starts where the exported model left off.
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

import common
from onnx_torch import OnnxTorchRunner


def folded_convs(path):
    """The (weight, bias, attributes) of every Conv node, in graph order."""
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    convs = []
    for n in g.node:
        if n.op_type != "Conv":
            continue
        w = inits[n.input[1]]
        b = inits[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros(w.shape[0], np.float32)
        attrs = {a.name: list(a.ints) if a.ints else a.i for a in n.attribute}
        convs.append((w, b, attrs))
    return convs


def decoder_join(path):
    """Where a DeepLabV3+ file adds its decoder's logits to the encoder's (see common.DeepLabV3Plus):
    "full" when its output is the Add of two full-size resizes, else "stride4"."""
    g = onnx.load(path, load_external_data=False).graph
    last = next(n for n in g.node if g.output[0].name in n.output)
    return "full" if last.op_type == "Add" else "stride4"


def conv_bn_pairs(model):
    """Every Conv2d of the model in definition order, with the BatchNorm2d that follows it (or None)."""
    mods = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    pairs = []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            bn = nxt if isinstance(nxt, nn.BatchNorm2d) and nxt.num_features == m.out_channels and m.bias is None else None
            pairs.append((m, bn))
    return pairs


def manifest_training(model_path, iterations=None, minutes=None):
    """The training record of the manifest beside MODEL.onnx (MODEL.json): iterations and minutes so far
    and, where the file was exported in the middle of a plan, that plan and the iteration it reached,
    so that a run rebuilt from the file goes on along the same schedule instead of starting a new one."""
    path = os.path.splitext(model_path)[0] + ".json"
    training = {}
    if os.path.exists(path):
        with open(path) as f:
            training = json.load(f).get("Training", {})
    out = {"iterations": iterations if iterations is not None else training.get("Iterations", 0),
           "minutes": minutes if minutes is not None else training.get("Minutes", 0.0),
           # The dataset seeds the file was trained on, so that no later run renders one of them again.
           "dataset_seeds": list(training.get("DatasetSeeds", []))}
    plan = training.get("Plan")
    if plan and plan.get("Reached", 0) < plan.get("Iterations", 0):
        out["plan"] = {"iterations": plan["Iterations"], "lr": plan["PeakLearningRate"], "started": plan["Started"],
                       # Files exported before these keys were recorded used the train.py defaults.
                       "decoder_lr_mult": plan.get("DecoderLearningRateFactor", 5.0), "warmup": plan.get("Warmup", 100),
                       "full_size_share": plan.get("FullSizeShare", 0.15)}
        out["plan_iteration"] = plan["Reached"]
    return out


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="exported ONNX file")
    ap.add_argument("--train", default="data/train", help="frames to measure the BatchNorm statistics on")
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=None,
                    help="iterations already trained (default: the manifest's Training.Iterations, else 0)")
    ap.add_argument("--minutes", type=float, default=None,
                    help="minutes already trained (default: the manifest's Training.Minutes, else 0)")
    ap.add_argument("--out", required=True, help="checkpoint to write")
    ap.add_argument("--threads", type=int, default=2)
    common.add_device_argument(ap)
    ap.add_argument("--export", default="",
                    help="also export the restored weights to DIR in the current design's form (common.build_model()), "
                         "with the file's manifest record, e.g. to move a release to a new join without training")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = common.pick_device(args.device)

    convs = folded_convs(args.model)
    # A DeepLabV3+ file restores the whole model; a file of the earlier encoder-only design restores
    # the encoder, and train.py --init adds the decoder as a zero residual branch.
    join = decoder_join(args.model)
    for decoder in (True, False):
        model = common.build_model(decoder=decoder, join=join)
        pairs = conv_bn_pairs(model)
        if len(convs) == len(pairs):
            break
    else:
        raise SystemExit(f"{args.model}: {len(convs)} Conv nodes; the DeepLabV3+ model has "
                         f"{len(conv_bn_pairs(common.build_model()))} convolutions, the encoder alone {len(pairs)}")
    print(f"{args.model}: {f'DeepLabV3+ (encoder and decoder, joined {join})' if decoder else 'encoder only (no decoder)'}")
    for k, ((conv, bn), (w, b, attrs)) in enumerate(zip(pairs, convs)):
        if tuple(conv.weight.shape) != w.shape or list(conv.dilation) != attrs.get("dilations", [1, 1]):
            raise SystemExit(f"convolution {k}: model {tuple(conv.weight.shape)} dilation {conv.dilation}, "
                             f"file {w.shape} {attrs.get('dilations')}")
        conv.weight.copy_(torch.from_numpy(w))
        if bn is None:
            conv.bias.copy_(torch.from_numpy(b))
        else:
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b))

    # Statistics of each folded convolution's output W'x (the BatchNorm input) on training frames.
    images, _ = common.load_split(args.train)
    rng = np.random.default_rng(0)
    sums = {}

    def hook(bn):
        def f(_, inputs, __):
            y = inputs[0].double()
            s = sums.setdefault(bn, [0.0, 0.0, 0])
            s[0] = s[0] + y.sum(dim=(0, 2, 3))
            s[1] = s[1] + (y * y).sum(dim=(0, 2, 3))
            s[2] += y.numel() // y.shape[1]
        return f

    handles = [bn.register_forward_hook(hook(bn)) for _, bn in pairs if bn is not None]
    model.eval()
    on_gpu = device.type != "cpu"
    if on_gpu:
        model.to(device)
    idx = rng.choice(len(images), min(args.frames, len(images)), replace=False)
    for i in range(0, len(idx), 4):
        model(common.normalise(images[idx[i:i + 4]], device if on_gpu else None))
    for h in handles:
        h.remove()
    if on_gpu:
        # The statistics are set and the file compared and saved on the CPU, as without a GPU.
        model.cpu()
        sums = {bn: [s1.cpu(), s2.cpu(), n] for bn, (s1, s2, n) in sums.items()}
    for bn, (s1, s2, n) in sums.items():
        mu = s1 / n
        var = (s2 / n - mu * mu).clamp_min(1e-12)
        b = bn.bias.detach().double().clone()
        bn.running_mean.copy_(mu.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.copy_((mu + b).float())

    x = common.normalise(images[idx[:2]])
    ref = OnnxTorchRunner(args.model).run(x)
    diff = float((model(x)["out"] - ref).abs().max())
    print(f"{args.model}: {len(convs)} convolutions restored; largest difference from the ONNX graph {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("the restored model does not reproduce the file")
    state = {"model": without_class_bias(model.state_dict(), args.model), "val_miou": float("nan")}
    state.update(manifest_training(args.model, args.iterations, args.minutes))
    if "plan" in state:
        print(f"the manifest records plan iteration {state['plan_iteration']} of {state['plan']['iterations']}: "
              f"train.py --init continues that plan")
    torch.save(state, args.out)
    print(f"wrote {args.out}")
    if args.export:
        export(model, args.model, args.export, x, ref)


def without_class_bias(state, model_path):
    """The weights as training left them: class_bias.py's prior correction (manifest Training.ClassBias)
    taken out of its classifier's bias, so training goes on from the trained logits, and the next export
    fits its own correction."""
    manifest = os.path.splitext(model_path)[0] + ".json"
    if not os.path.exists(manifest):
        return state
    with open(manifest) as f:
        record = json.load(f)
    bias = record.get("Training", {}).get("ClassBias")
    if not bias:
        return state
    node = bias["Node"]
    key = node.removeprefix("/model/").removesuffix("/Conv").replace("/", ".") + ".bias"
    if key not in state:
        raise SystemExit(f"{manifest}: Training.ClassBias names {node}, which is not a convolution with a bias in the model")
    values = torch.tensor([bias["Values"][c] for c in record["Classes"]], dtype=state[key].dtype)
    state = dict(state)
    state[key] = state[key] - values
    print(f"took the class-bias correction of {manifest} out of {key} (largest {values.abs().max().item():.2f})")
    return state


def export(restored, model_path, out_dir, x, ref):
    """The restored weights in the current design's form, with the original manifest's Training record."""
    if not isinstance(restored, common.DeepLabV3Plus):
        raise SystemExit("--export: an encoder-only file has no decoder to join; train.py --init adds one")
    current = common.build_model()
    current.load_state_dict(restored.state_dict())
    current.eval()
    diff = float((current(x)["out"] - ref).abs().max())
    os.makedirs(out_dir, exist_ok=True)
    name = os.path.splitext(os.path.basename(model_path))[0]
    common.export_onnx(current, os.path.join(out_dir, name + ".onnx"))
    training = {}
    manifest = os.path.splitext(model_path)[0] + ".json"
    if os.path.exists(manifest):
        with open(manifest) as f:
            training = json.load(f).get("Training", {})
    common.write_manifest(os.path.join(out_dir, name + ".json"), name, {"Training": training} if training else None)
    print(f"exported the same weights in the current form to {out_dir}/{name}.onnx "
          f"(largest logit difference from the file {diff:.3f}: the form, not the weights)")


if __name__ == "__main__":
    main()
