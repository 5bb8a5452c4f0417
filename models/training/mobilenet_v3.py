"""torchvision's deeplabv3_mobilenet_v3_large pieces in plain torch, for machines without torchvision.

common.py builds the model from torchvision's classes when torchvision imports, and from these
otherwise. They are the same network: the same modules in the same order (so the same state_dict keys
and shapes, and the same ONNX graph) and the same forward computation, as torchvision 0.14 builds it
for DeepLabV3 (MobileNetV3-Large, last stage dilated: output stride 16; BatchNorm eps 0.001 in the
backbone; hardswish, and hardsigmoid in the squeeze-and-excitation blocks) and its ASPP (a 1x1 branch,
one 3x3 branch per rate, image pooling, a 1x1 projection with dropout 0.5). check_fallback.py compares
the two.
"""
from collections import OrderedDict
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn


def make_divisible(v, divisor=8):
    """torchvision's _make_divisible: the nearest multiple of divisor, never 10 % below v."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvNormActivation(nn.Sequential):
    """Conv2d (no bias), BatchNorm2d and an optional activation: keys 0.*, 1.*."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1, norm_layer=nn.BatchNorm2d,
                 activation_layer=nn.ReLU, dilation=1):
        padding = (kernel_size - 1) // 2 * dilation
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=False),
                  norm_layer(out_channels)]
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """x * hardsigmoid(fc2(relu(fc1(mean(x))))): keys fc1.*, fc2.*."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class InvertedResidual(nn.Module):
    """MobileNetV3's block: optional 1x1 expansion, depthwise conv (stride 1 where dilated), optional SE,
    1x1 projection; a residual add when the shape is kept. Keys block.N.*."""

    def __init__(self, cin, kernel, expanded, cout, use_se, hardswish, stride, dilation, norm_layer):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        act = nn.Hardswish if hardswish else nn.ReLU
        layers = []
        if expanded != cin:
            layers.append(ConvNormActivation(cin, expanded, 1, norm_layer=norm_layer, activation_layer=act))
        layers.append(ConvNormActivation(expanded, expanded, kernel, stride=1 if dilation > 1 else stride, groups=expanded,
                                         norm_layer=norm_layer, activation_layer=act, dilation=dilation))
        if use_se:
            layers.append(SqueezeExcitation(expanded, make_divisible(expanded // 4)))
        layers.append(ConvNormActivation(expanded, cout, 1, norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cout
        self._is_cn = stride > 1

    def forward(self, x):
        y = self.block(x)
        if self.use_res_connect:
            y = y + x
        return y


# (input, kernel, expanded, output, SE, hardswish, stride, dilation) of MobileNetV3-Large, last stage dilated.
LARGE_DILATED = [
    (16, 3, 16, 16, False, False, 1, 1), (16, 3, 64, 24, False, False, 2, 1), (24, 3, 72, 24, False, False, 1, 1),
    (24, 5, 72, 40, True, False, 2, 1), (40, 5, 120, 40, True, False, 1, 1), (40, 5, 120, 40, True, False, 1, 1),
    (40, 3, 240, 80, False, True, 2, 1), (80, 3, 200, 80, False, True, 1, 1), (80, 3, 184, 80, False, True, 1, 1),
    (80, 3, 184, 80, False, True, 1, 1), (80, 3, 480, 112, True, True, 1, 1), (112, 3, 672, 112, True, True, 1, 1),
    (112, 5, 672, 160, True, True, 2, 2), (160, 5, 960, 160, True, True, 1, 2), (160, 5, 960, 160, True, True, 1, 2),
]


def mobilenet_v3_large_features():
    """MobileNetV3-Large's `features` (17 modules) with the last stage dilated, torchvision's initialisation."""
    norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
    layers = [ConvNormActivation(3, 16, 3, stride=2, norm_layer=norm_layer, activation_layer=nn.Hardswish)]
    layers += [InvertedResidual(*cfg, norm_layer=norm_layer) for cfg in LARGE_DILATED]
    layers.append(ConvNormActivation(160, 960, 1, norm_layer=norm_layer, activation_layer=nn.Hardswish))
    features = nn.Sequential(*layers)
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return features


class IntermediateLayerGetter(nn.ModuleDict):
    """Runs the children in order and returns {return_layers[name]: output} (torchvision's semantics)."""

    def __init__(self, model, return_layers):
        layers = OrderedDict()
        wanted = dict(return_layers)
        for name, module in model.named_children():
            layers[name] = module
            wanted.pop(name, None)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class ASPPPooling(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, x):
        size = x.shape[-2:]
        for mod in self:
            x = mod(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """torchvision.models.segmentation.deeplabv3.ASPP: keys convs.N.*, project.*."""

    def __init__(self, in_channels, atrous_rates, out_channels=256):
        super().__init__()
        modules = [nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU())]
        for rate in atrous_rates:
            modules.append(nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=rate, dilation=rate, bias=False),
                                         nn.BatchNorm2d(out_channels), nn.ReLU()))
        modules.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
                                     nn.BatchNorm2d(out_channels), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabV3(nn.Module):
    """backbone -> classifier -> bilinear to the input size, as {"out": logits}; no auxiliary head."""

    def __init__(self, backbone, classifier):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = None

    def forward(self, x):
        size = x.shape[-2:]
        y = self.classifier(self.backbone(x)["out"])
        return {"out": F.interpolate(y, size=size, mode="bilinear", align_corners=False)}


def deeplabv3_mobilenet_v3_large(num_classes=21, aux_loss=False, **_):
    """torchvision's builder without weights: the backbone returns the last feature layer as "out", and
    the classifier is a placeholder ASPP head (common.py replaces it)."""
    if aux_loss:
        raise ValueError("the fallback has no auxiliary head")
    features = mobilenet_v3_large_features()
    stage_indices = [0] + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)] + [len(features) - 1]
    out_pos = stage_indices[-1]
    backbone = IntermediateLayerGetter(features, {str(out_pos): "out"})
    in_channels = features[out_pos][0].out_channels
    classifier = nn.Sequential(ASPP(in_channels, [12, 24, 36]), nn.Conv2d(256, 256, 3, padding=1, bias=False),
                               nn.BatchNorm2d(256), nn.ReLU(), nn.Conv2d(256, num_classes, 1))
    return DeepLabV3(backbone, classifier)
