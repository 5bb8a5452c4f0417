using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace EdgeSeg.Pipeline.Quantization;

/// <summary>
/// Drops the kernel rows and columns of a convolution that, at the model's fixed input size, only ever
/// read zero padding. DeepLab's ASPP at output stride 16 runs 3x3 convolutions of rate 12 and 18 on a
/// 32x16 map: at rate 18 the upper and lower rows of the kernel fall outside the 16 rows for every output
/// pixel, so the 3x3 convolution is exactly a 1x3 one. The rewrite changes no output value (it only
/// removes multiplications by padding zeros); it saves a third of that branch's work in every engine that
/// does not skip padding itself (ONNX Runtime's integer convolution, TensorRT).
/// </summary>
public static class PaddingTapCropper
{
    /// <summary>Crops every Conv it can, in place, given each Conv input's NCHW shape; returns a line per Conv changed.</summary>
    public static IReadOnlyList<string> Crop(ModelProto model, IReadOnlyDictionary<string, long[]> shapes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(shapes);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var weightUses = graph.Node.Where(n => n.OpType == "Conv").GroupBy(n => n.Input[1]).ToDictionary(g => g.Key, g => g.Count());
        var changes = new List<string>();
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv"))
        {
            if (!shapes.TryGetValue(conv.Input[0], out var shape) || shape.Length != 4
                || !initializers.TryGetValue(conv.Input[1], out var weight) || weight.Dims.Count != 4 || weightUses[conv.Input[1]] != 1)
            {
                continue;
            }

            var dilations = Ints(conv, "dilations", [1, 1]);
            var strides = Ints(conv, "strides", [1, 1]);
            var pads = Ints(conv, "pads", [0, 0, 0, 0]);
            if (conv.Attribute.Any(a => a.Name == "auto_pad" && a.S.ToStringUtf8() is not ("NOTSET" or "")))
            {
                continue;
            }

            var kh = (int)weight.Dims[2];
            var kw = (int)weight.Dims[3];
            var (r0, r1) = ValidTaps(shape[2], kh, dilations[0], strides[0], pads[0], pads[2]);
            var (c0, c1) = ValidTaps(shape[3], kw, dilations[1], strides[1], pads[1], pads[3]);
            if ((r0 == 0 && r1 == kh - 1 && c0 == 0 && c1 == kw - 1) || r0 < 0 || c0 < 0)
            {
                continue;
            }

            var newPads = new[] { pads[0] - (r0 * dilations[0]), pads[1] - (c0 * dilations[1]), pads[2] - ((kh - 1 - r1) * dilations[0]), pads[3] - ((kw - 1 - c1) * dilations[1]) };
            if (newPads.Any(p => p < 0))
            {
                continue;
            }

            var values = QdqQuantizer.FloatData(weight);
            int outC = (int)weight.Dims[0], inC = (int)weight.Dims[1], nh = r1 - r0 + 1, nw = c1 - c0 + 1;
            var cropped = new float[outC * inC * nh * nw];
            for (var o = 0; o < outC * inC; o++)
            {
                for (var y = 0; y < nh; y++)
                {
                    values.AsSpan((o * kh * kw) + ((r0 + y) * kw) + c0, nw).CopyTo(cropped.AsSpan((o * nh * nw) + (y * nw), nw));
                }
            }

            weight.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cropped.AsSpan()));
            weight.FloatData.Clear();
            weight.Dims[2] = nh;
            weight.Dims[3] = nw;
            SetInts(conv, "pads", newPads);
            SetInts(conv, "dilations", [nh == 1 ? 1 : dilations[0], nw == 1 ? 1 : dilations[1]]);
            if (conv.Attribute.Any(a => a.Name == "kernel_shape"))
            {
                SetInts(conv, "kernel_shape", [nh, nw]);
            }

            changes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{conv.Name}: {kh}x{kw} kernel at rate {dilations[0]}x{dilations[1]} on a {shape[3]}x{shape[2]} map → {nh}x{nw} (the rest only read padding)"));
        }

        return changes;
    }

    /// <summary>The first and last kernel taps along one axis that read the input for at least one output position.</summary>
    private static (int First, int Last) ValidTaps(long size, int kernel, long dilation, long stride, long padBefore, long padAfter)
    {
        var outputs = ((size + padBefore + padAfter - (dilation * (kernel - 1)) - 1) / stride) + 1;
        int first = -1, last = -1;
        for (var k = 0; k < kernel; k++)
        {
            for (long y = 0; y < outputs; y++)
            {
                var row = (y * stride) + (k * dilation) - padBefore;
                if (row >= 0 && row < size)
                {
                    first = first < 0 ? k : first;
                    last = k;
                    break;
                }
            }
        }

        return (first, last);
    }

    private static long[] Ints(NodeProto node, string name, long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { Ints.Count: > 0 } a ? [.. a.Ints] : fallback;

    private static void SetInts(NodeProto node, string name, long[] values)
    {
        var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
        if (attribute is null)
        {
            attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            node.Attribute.Add(attribute);
        }

        attribute.Ints.Clear();
        attribute.Ints.AddRange(values);
    }
}
