"""Runs an exported ONNX segmentation graph with PyTorch operators.

Debian ships python3-onnx but no onnxruntime, so evaluate.py executes the ONNX file itself with
this small interpreter: it reads the graph and initializers from the file and maps each node to
the equivalent torch operation. It covers the operators that torchvision's DeepLabV3 exports to
(opset 13) and refuses anything else, so a graph it cannot run exactly is never silently
approximated.
"""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper


class OnnxTorchRunner:
    """device: where the graph runs (default the CPU); run() returns its output there."""

    def __init__(self, path, device=None):
        self.model = onnx.load(path)
        self.device = torch.device(device) if device is not None else None
        g = self.model.graph
        self.inits = {i.name: self._place(torch.from_numpy(numpy_helper.to_array(i).copy())) for i in g.initializer}
        self.input_names = [i.name for i in g.input if i.name not in self.inits]
        self.output_names = [o.name for o in g.output]
        self.nodes = [(n.op_type, list(n.input), list(n.output),
                       {a.name: helper.get_attribute_value(a) for a in n.attribute}) for n in g.node]
        dims = g.input[0].type.tensor_type.shape.dim
        self.input_shape = [d.dim_value for d in dims]

    def _place(self, t):
        # Floating-point tensors go to the device; integer ones (shapes, slice bounds) stay on the CPU.
        return t.to(self.device) if self.device is not None and t.dtype.is_floating_point else t

    @torch.no_grad()
    def run(self, x):
        env = dict(self.inits)
        env[self.input_names[0]] = x.to(self.device) if self.device is not None else x
        for op, ins, outs, at in self.nodes:
            a = [env[i] if i else None for i in ins]
            if op == "Conv":
                pads = at.get("pads", [0, 0, 0, 0])
                if pads[:2] != pads[2:]:
                    raise NotImplementedError("asymmetric Conv padding")
                y = F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=tuple(at.get("strides", [1, 1])),
                             padding=tuple(pads[:2]), dilation=tuple(at.get("dilations", [1, 1])), groups=at.get("group", 1))
            elif op == "Relu":
                y = torch.relu(a[0])
            elif op == "HardSigmoid":
                y = torch.clamp(a[0] * at.get("alpha", 0.2) + at.get("beta", 0.5), 0.0, 1.0)
            elif op == "HardSwish":
                y = F.hardswish(a[0])
            elif op == "Mul":
                y = a[0] * a[1]
            elif op == "Add":
                y = a[0] + a[1]
            elif op == "Identity":
                y = a[0]
            elif op == "GlobalAveragePool":
                y = a[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Constant":
                y = self._place(torch.from_numpy(numpy_helper.to_array(at["value"]).copy()))
            elif op == "Shape":
                y = torch.tensor(list(a[0].shape), dtype=torch.int64)
            elif op == "Slice":
                starts, ends = a[1].tolist(), a[2].tolist()
                axes = a[3].tolist() if len(a) > 3 and a[3] is not None else list(range(len(starts)))
                steps = a[4].tolist() if len(a) > 4 and a[4] is not None else [1] * len(starts)
                idx = [slice(None)] * a[0].dim()
                for s, e, ax, st in zip(starts, ends, axes, steps):
                    idx[ax] = slice(s, min(e, a[0].shape[ax]), st)
                y = a[0][tuple(idx)]
            elif op == "Concat":
                y = torch.cat(a, dim=at["axis"])
            elif op == "Resize":
                if at.get("mode", b"nearest") != b"linear" or at.get("coordinate_transformation_mode") != b"half_pixel":
                    raise NotImplementedError(f"Resize {at}")
                sizes = a[3].tolist()
                y = F.interpolate(a[0], size=tuple(int(v) for v in sizes[2:]), mode="bilinear", align_corners=False)
            else:
                raise NotImplementedError(f"ONNX operator {op} is not supported by this runner")
            env[outs[0]] = y
        return env[self.output_names[0]]


def self_check(path, model):
    """Largest absolute difference between the ONNX graph (run here) and the torch model on random input."""
    runner = OnnxTorchRunner(path)
    x = torch.randn(1, 3, *runner.input_shape[2:])
    model.eval()
    with torch.no_grad():
        ref = model(x)["out"]
    return float((runner.run(x) - ref).abs().max())


if __name__ == "__main__":
    import sys
    r = OnnxTorchRunner(sys.argv[1])
    print(r.input_names, r.output_names, r.input_shape)
    print(r.run(torch.zeros(r.input_shape)).shape, np.unique([n[0] for n in r.nodes]))
