"""Shared pieces of the training recipe: model definition, data loading, ONNX export, manifest."""
import copy
import json
import os

import numpy as np
import torch
from torch import nn
from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large
from torchvision.models.segmentation.deeplabv3 import ASPP

CLASSES = [
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
]
PALETTE = [
    [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153],
    [153, 153, 153], [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
    [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
    [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32],
]
NUM_CLASSES = 19
IGNORE = 255
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
WIDTH, HEIGHT = 512, 256
# At output stride 16 a 512x256 input gives a 32x16 feature map: torchvision's default rates
# (12, 24, 36) would make the dilated 3x3 branches see mostly padding, so use the DeepLab paper's
# OS16 rates.
ASPP_RATES = [6, 12, 18]
OUTPUT_STRIDE = 16


def build_model():
    """torchvision DeepLabV3 with a MobileNetV3-Large backbone (last stage dilated: output stride 16),
    no auxiliary head, and an ASPP head with rates ASPP_RATES (same layout as torchvision's DeepLabHead)."""
    model = deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=NUM_CLASSES, aux_loss=False)
    in_channels = model.classifier[0].convs[0][0].in_channels
    model.classifier = nn.Sequential(
        ASPP(in_channels, ASPP_RATES, 256),
        nn.Conv2d(256, 256, 3, padding=1, bias=False),
        nn.BatchNorm2d(256),
        nn.ReLU(),
        nn.Conv2d(256, NUM_CLASSES, 1),
    )
    return model


class LogitsOnly(nn.Module):
    """What is exported: normalised NCHW float input -> 'out' logits at input size."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def load_split(root, cache=True):
    """Loads DIR/images/*.png and DIR/labels/*.png into uint8 arrays (N,H,W,3 RGB) and (N,H,W)."""
    from PIL import Image

    cache_file = os.path.join(root, "cache.npz")
    if cache and os.path.exists(cache_file):
        d = np.load(cache_file)
        return d["images"], d["labels"]
    names = sorted(os.listdir(os.path.join(root, "images")))
    images = np.stack([np.array(Image.open(os.path.join(root, "images", n)).convert("RGB")) for n in names])
    labels = np.stack([np.array(Image.open(os.path.join(root, "labels", n))) for n in names])
    if cache:
        np.savez(cache_file, images=images, labels=labels)
    return images, labels


def normalise(batch_uint8_nhwc):
    """uint8 NHWC RGB -> float NCHW, /255 then ImageNet mean/std (the manifest's contract)."""
    x = torch.from_numpy(batch_uint8_nhwc).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def export_onnx(model, path):
    model.eval()
    # A plain-layout copy, so that a model trained in channels-last exports the same graph.
    wrapper = LogitsOnly(copy.deepcopy(model).to(memory_format=torch.contiguous_format))
    dummy = torch.zeros(1, 3, HEIGHT, WIDTH)
    tmp = path + ".tmp"
    torch.onnx.export(
        wrapper, dummy, tmp, input_names=["input"], output_names=["out"], opset_version=13,
        do_constant_folding=True, dynamic_axes=None)
    os.replace(tmp, path)


def write_manifest(path, name, extra=None):
    manifest = {
        "Name": name,
        "Architecture": "DeepLabV3, MobileNetV3-Large backbone (torchvision deeplabv3_mobilenet_v3_large layout), "
                        "dilated last stage, ASPP with image pooling and 1x1 projection, no auxiliary head",
        "Input": {
            "Name": "input", "Layout": "NCHW", "Width": WIDTH, "Height": HEIGHT, "ElementType": "float32",
            "ColorOrder": "RGB", "Mean": MEAN, "Std": STD, "Scale": 255,
        },
        "Output": {"Name": "out", "Kind": "logits"},
        "LabelSet": "cityscapes",
        "Classes": CLASSES,
        "Palette": PALETTE,
        "OutputStride": OUTPUT_STRIDE,
        "AsppRates": ASPP_RATES,
    }
    if extra:
        manifest.update(extra)
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def confusion(pred, target, n=NUM_CLASSES):
    """Confusion matrix (rows: truth, columns: prediction) over non-ignored pixels."""
    valid = target != IGNORE
    idx = target[valid].astype(np.int64) * n + pred[valid].astype(np.int64)
    return np.bincount(idx, minlength=n * n).reshape(n, n)
