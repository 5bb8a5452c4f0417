#!/usr/bin/env python3
"""Exports torchvision's pretrained DeepLabV3 (MobileNetV3-Large) to EdgeSeg's model format.

For users with internet access: torchvision downloads its COCO-trained weights (Pascal VOC's 21
classes) on first use. The result has the same contract as the bundled street model: ONNX opset 13
with a static input size, input 'input' (NCHW float32 RGB, /255 then ImageNet mean/std), output
'out' (logits at input size, bilinear upsampling inside the graph), and a JSON manifest beside it.

    python3 models/export_torchvision.py --width 512 --height 512 --out models/deeplabv3_mnv3_voc_512x512.onnx
"""
import argparse
import json
import os

import torch
from torch import nn

VOC_CLASSES = [
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
]


def voc_palette(count):
    """Pascal VOC's colour map: bits of the class id spread over the high bits of R, G and B."""
    palette = []
    for i in range(count):
        r = g = b = 0
        c = i
        for bit in range(7, -1, -1):
            if c == 0:
                break
            r |= (c & 1) << bit
            g |= ((c >> 1) & 1) << bit
            b |= ((c >> 2) & 1) << bit
            c >>= 3
        palette.append([r, g, b])
    return palette


class LogitsOnly(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--out", default="")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--untrained", action="store_true",
                    help="skip the download and export random weights: checks the export path offline")
    args = ap.parse_args()

    from torchvision.models.segmentation import DeepLabV3_MobileNet_V3_Large_Weights, deeplabv3_mobilenet_v3_large

    weights = DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1
    if args.untrained:
        model = deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=len(VOC_CLASSES), aux_loss=True)
    else:
        model = deeplabv3_mobilenet_v3_large(weights=weights)
    # The auxiliary head only helps training; the exported graph has the main output alone.
    model.aux_classifier = None
    model.eval()
    rates = [conv[0].dilation[0] for conv in model.classifier[0].convs[1:4]]

    name = f"deeplabv3_mnv3_voc_{args.width}x{args.height}"
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".onnx")
    name = os.path.splitext(os.path.basename(out))[0]
    torch.onnx.export(LogitsOnly(model), torch.zeros(1, 3, args.height, args.width), out,
                      input_names=["input"], output_names=["out"], opset_version=args.opset, do_constant_folding=True)
    manifest = {
        "Name": name,
        "Architecture": "DeepLabV3, MobileNetV3-Large backbone (torchvision deeplabv3_mobilenet_v3_large, "
                        + ("untrained weights, export check only" if args.untrained else "COCO_WITH_VOC_LABELS_V1 weights")
                        + "), dilated last stage, ASPP with image pooling and 1x1 projection, "
                        "no auxiliary head",
        "Input": {"Name": "input", "Layout": "NCHW", "Width": args.width, "Height": args.height, "ElementType": "float32",
                  "ColorOrder": "RGB", "Mean": [0.485, 0.456, 0.406], "Std": [0.229, 0.224, 0.225], "Scale": 255},
        "Output": {"Name": "out", "Kind": "logits"},
        "LabelSet": "pascal-voc",
        "Classes": VOC_CLASSES,
        "Palette": voc_palette(len(VOC_CLASSES)),
        "OutputStride": 16,
        "AsppRates": rates,
    }
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {out} and its manifest")


if __name__ == "__main__":
    main()
