"""Shared pieces of the training recipe: model definition, data loading, ONNX export, manifest."""
import copy
import json
import os

import inspect

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def torchvision_builders():
    """torchvision's deeplabv3_mobilenet_v3_large and ASPP."""
    from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large
    from torchvision.models.segmentation.deeplabv3 import ASPP
    return deeplabv3_mobilenet_v3_large, ASPP


def plain_builders():
    """The same two built from plain torch modules (mobilenet_v3.py), for machines without torchvision."""
    import mobilenet_v3
    return mobilenet_v3.deeplabv3_mobilenet_v3_large, mobilenet_v3.ASPP


# torchvision when it imports (EDGESEG_NO_TORCHVISION=1 forces the plain-torch fallback); both build the
# same network with the same state_dict keys (check_fallback.py compares them).
if os.environ.get("EDGESEG_NO_TORCHVISION"):
    BACKEND = "plain"
else:
    try:
        torchvision_builders()
        BACKEND = "torchvision"
    except Exception:  # not installed, or built for another torch
        BACKEND = "plain"

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


# DeepLabV3+ decoder: MobileNetV3-Large's stride-4 features (the output of features[3], 24 channels)
# projected to DECODER_SKIP channels, joined to the ASPP output upsampled to stride 4, two
# depthwise-separable 3x3 convolutions of DECODER_CHANNELS, and a classifier. At 512x256 this adds
# about 0.5 GMAC to the encoder's 4.9.
DECODER_STRIDE = 4
DECODER_LOW_LAYER = "3"
DECODER_LOW_CHANNELS = 24
DECODER_SKIP = 48
DECODER_CHANNELS = 128


def build_encoder_model(backend=None):
    """torchvision DeepLabV3 with a MobileNetV3-Large backbone (last stage dilated: output stride 16),
    no auxiliary head, and an ASPP head with rates ASPP_RATES (same layout as torchvision's DeepLabHead).
    This is the design of the models shipped before the decoder. backend: "torchvision" or "plain"
    (default BACKEND)."""
    deeplabv3_mobilenet_v3_large, ASPP = (torchvision_builders if (backend or BACKEND) == "torchvision" else plain_builders)()
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


def separable(in_channels, out_channels):
    """Depthwise 3x3 then pointwise 1x1, each with BatchNorm and ReLU."""
    return [
        nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    ]


class Decoder(nn.Module):
    """The light DeepLabV3+ decoder. Its classifier starts at zero, so a model with a fresh decoder
    computes exactly what its encoder alone computed; training then adds stride-4 detail."""

    def __init__(self, high_channels=256, low_channels=DECODER_LOW_CHANNELS, skip=DECODER_SKIP,
                 channels=DECODER_CHANNELS, classes=NUM_CLASSES):
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(low_channels, skip, 1, bias=False), nn.BatchNorm2d(skip), nn.ReLU())
        self.fuse = nn.Sequential(*separable(high_channels + skip, channels), *separable(channels, channels))
        self.classifier = nn.Conv2d(channels, classes, 1)
        nn.init.zeros_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, high, low):
        low = self.project(low)
        high = F.interpolate(high, size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.classifier(self.fuse(torch.cat([high, low], 1)))


class DeepLabV3Plus(nn.Module):
    """The encoder of build_encoder_model() (same parameter names, so its checkpoints load) plus the
    decoder as a residual branch.

    join="stride4" (the design since plan iteration 11158): the encoder's logits are upsampled to the
    decoder's stride-4 grid, added to the decoder's, and the sum is upsampled once to the input size:
    out = up(up4(encoder logits) + decoder logits). join="full" (the releases before it): each is
    upsampled to the input size and the two are added. The two differ only by how smooth the encoder's
    share is (bilinear twice against once); stride4 spends one full-size resize and one full-size add
    less (1.2 ms of 54 per 512x256 frame on a 2-core EPYC, ONNX Runtime's profile; the whole pipeline
    0.849x -> 0.867x the encoder-only model's) and scored 0.0012 higher on the validation frames with
    the same weights. Both have the same parameters: either form's checkpoint loads into the other."""

    JOINS = ("stride4", "full")

    def __init__(self, encoder_model, join="stride4"):
        super().__init__()
        if join not in self.JOINS:
            raise ValueError(f"join must be one of {self.JOINS}, got {join!r}")
        self.join = join
        self.backbone = encoder_model.backbone
        # IntermediateLayerGetter returns the layers named here; "3" is the last stride-4 block.
        self.backbone.return_layers = {DECODER_LOW_LAYER: "low", **{k: v for k, v in self.backbone.return_layers.items()}}
        self.classifier = encoder_model.classifier
        self.decoder = Decoder()

    def forward(self, x):
        size = x.shape[-2:]
        feats = self.backbone(x)
        high = self.classifier[:4](feats["out"])
        coarse = self.classifier[4](high)
        detail = self.decoder(high, feats["low"])
        if self.join == "stride4":
            joined = F.interpolate(coarse, size=detail.shape[-2:], mode="bilinear", align_corners=False) + detail
            return {"out": F.interpolate(joined, size=size, mode="bilinear", align_corners=False)}
        out = (F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
               + F.interpolate(detail, size=size, mode="bilinear", align_corners=False))
        return {"out": out}

    def new_parameters(self):
        return list(self.decoder.parameters())


def build_model(decoder=True, join="stride4", backend=None):
    """The bundled model's design: DeepLabV3+ (encoder + light decoder), or the encoder alone.
    join: where the decoder's logits meet the encoder's (see DeepLabV3Plus); backend: see build_encoder_model."""
    encoder = build_encoder_model(backend)
    return DeepLabV3Plus(encoder, join) if decoder else encoder


class LogitsOnly(nn.Module):
    """What is exported: normalised NCHW float input -> 'out' logits at input size."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def load_split(root, cache=True):
    """DIR/images/*.png and DIR/labels/*.png as uint8 arrays (N,H,W,3 RGB) and (N,H,W).

    The first call decodes the PNGs into DIR/images.npy and DIR/labels.npy; later calls map those
    files read-only, so a 16k-frame set (8.4 GB) costs page cache rather than process memory and a
    restarted run starts in seconds. A directory holding only the two arrays (as tools/EdgeSeg.Render
    writes them, models/training/gpu/) is read from those, whatever `cache` says."""
    image_file, label_file = os.path.join(root, "images.npy"), os.path.join(root, "labels.npy")
    have_arrays = os.path.exists(image_file) and os.path.exists(label_file)
    if have_arrays and (cache or not os.path.isdir(os.path.join(root, "images"))):
        return np.load(image_file, mmap_mode="r"), np.load(label_file, mmap_mode="r")
    from PIL import Image

    names = sorted(os.listdir(os.path.join(root, "images")))
    if not names:
        raise SystemExit(f"{root}/images: no frames (render them with 'edgeseg dataset render')")
    first = np.array(Image.open(os.path.join(root, "images", names[0])).convert("RGB"))
    h, w = first.shape[:2]
    if not cache:
        images = np.empty((len(names), h, w, 3), np.uint8)
        labels = np.empty((len(names), h, w), np.uint8)
    else:
        images = np.lib.format.open_memmap(image_file + ".tmp", "w+", np.uint8, (len(names), h, w, 3))
        labels = np.lib.format.open_memmap(label_file + ".tmp", "w+", np.uint8, (len(names), h, w))
    for i, n in enumerate(names):
        images[i] = np.array(Image.open(os.path.join(root, "images", n)).convert("RGB"))
        labels[i] = np.array(Image.open(os.path.join(root, "labels", n)))
    if not cache:
        return images, labels
    images.flush()
    labels.flush()
    del images, labels
    os.replace(image_file + ".tmp", image_file)
    os.replace(label_file + ".tmp", label_file)
    return np.load(image_file, mmap_mode="r"), np.load(label_file, mmap_mode="r")


def normalise(batch_uint8_nhwc, device=None):
    """uint8 NHWC RGB -> float NCHW, /255 then ImageNet mean/std (the manifest's contract). A uint8
    array or tensor; with a device, the uint8 pixels are moved there first and converted there."""
    if isinstance(batch_uint8_nhwc, torch.Tensor):
        x = batch_uint8_nhwc
    else:
        x = torch.from_numpy(np.array(batch_uint8_nhwc))
    if device is not None:
        x = x.to(device, non_blocking=True)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def pick_device(name="auto"):
    """--device auto|cpu|cuda: auto is cuda when torch sees a CUDA device, else cpu."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    if name not in ("cpu", "cuda"):
        raise SystemExit(f"--device must be auto, cpu or cuda, got {name!r}")
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return device


def add_device_argument(ap):
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                    help="auto: cuda when available, else cpu (--threads only matters on cpu)")


def load_checkpoint(path):
    """A checkpoint of train.py or from_onnx.py, its tensors on the CPU, wherever it was written (torch 2.6+
    loads weights only by default; these files also hold the plan, the seeds and the optimizer state)."""
    return torch.load(path, map_location="cpu", weights_only=False)


def export_onnx(model, path):
    model.eval()
    # A plain-layout float32 copy on the CPU, so that a model trained in channels-last or on a GPU exports
    # the same graph.
    cpu = copy.deepcopy(model).to("cpu").float().to(memory_format=torch.contiguous_format)
    cpu.eval()
    wrapper = LogitsOnly(cpu)
    dummy = torch.zeros(1, 3, HEIGHT, WIDTH)
    tmp = path + ".tmp"
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch 2.9+ defaults to the dynamo exporter, whose graph differs
    torch.onnx.export(
        wrapper, dummy, tmp, input_names=["input"], output_names=["out"], opset_version=13,
        do_constant_folding=True, dynamic_axes=None, **kwargs)
    os.replace(tmp, path)


def write_manifest(path, name, extra=None):
    manifest = {
        "Name": name,
        "Architecture": "DeepLabV3+, MobileNetV3-Large backbone (torchvision deeplabv3_mobilenet_v3_large layout), "
                        "dilated last stage, ASPP with image pooling and 1x1 projection, light decoder "
                        f"(stride-{DECODER_STRIDE} skip of {DECODER_SKIP} channels, two depthwise-separable 3x3 "
                        f"convolutions of {DECODER_CHANNELS}) as a residual branch whose logits are added to the encoder's "
                        f"at stride {DECODER_STRIDE}, the sum upsampled once to the input, no auxiliary head",
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
        "Decoder": {"Stride": DECODER_STRIDE, "SkipChannels": DECODER_SKIP, "Channels": DECODER_CHANNELS},
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
