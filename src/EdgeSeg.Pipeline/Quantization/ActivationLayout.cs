using Google.Protobuf;
using Onnx;

namespace EdgeSeg.Pipeline.Quantization;

/// <summary>
/// The activation form x86 integer kernels want, made from the TensorRT form at load time.
/// <para>
/// A QDQ file for TensorRT stores activations as int8 with zero point 0. ONNX Runtime's x86 kernels
/// multiply uint8 activations by int8 weights (AVX-512 VNNI's instruction); int8 × int8 is emulated and
/// about 3× slower. ONNX Runtime converts int8 Q/DQ pairs to uint8 itself, but only where a
/// QuantizeLinear feeds a single DequantizeLinear, so every tensor with two consumers (a residual
/// block's input, a HardSwish input) keeps int8 and the convolutions around it stay float. The two forms
/// are the same numbers: q_u8 = q_s8 + 128 with zero point 128, same scale. So the appliance keeps one
/// file on disk and, for the CPU provider, rewrites every activation pair before creating the session.
/// Weights (a DequantizeLinear of an initializer) stay int8.
/// </para>
/// </summary>
public static class ActivationLayout
{
    /// <summary>True when the model has int8 zero-point-0 activation QuantizeLinear nodes to convert.</summary>
    public static bool HasInt8Activations(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var initializers = model.Graph.Initializer.ToDictionary(i => i.Name);
        return model.Graph.Node.Any(n => n.OpType == "QuantizeLinear" && IsInt8Zero(n, initializers));
    }

    /// <summary>
    /// True when the model quantizes activations and every QuantizeLinear yields uint8 (a uint8 zero point,
    /// or none: uint8 is the default) — the form ONNX Runtime's own quantizer writes (uint8 activations,
    /// int8 weights), and this appliance's TensorRT form after <see cref="ToUint8"/>.
    /// </summary>
    public static bool HasOnlyUint8Activations(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var initializers = model.Graph.Initializer.ToDictionary(i => i.Name);
        var quantize = model.Graph.Node.Where(n => n.OpType == "QuantizeLinear").ToList();
        return quantize.Count > 0 && quantize.All(q =>
            q.Input.Count < 3 || string.IsNullOrEmpty(q.Input[2])
            || (initializers.TryGetValue(q.Input[2], out var zero) && zero.DataType == (int)TensorProto.Types.DataType.Uint8));
    }

    /// <summary>
    /// Rewrites a QDQ model, in place, to the form ONNX Runtime's x86 kernels run fast and exactly: int8
    /// zero-point-0 activations to uint8 (<see cref="ToUint8"/>) and, on a CPU without VNNI, int8 weights
    /// to uint8 wherever every activation is uint8 (<see cref="WeightsToUint8"/>) — also in a file quantized
    /// elsewhere with uint8 activations, which would otherwise saturate there. Returns false when nothing
    /// changed (a float model, or nothing to do on this CPU).
    /// </summary>
    public static bool PrepareForX86(ModelProto model, bool cpuHasVnni)
    {
        ArgumentNullException.ThrowIfNull(model);
        var activations = ToUint8(model);
        var weights = !cpuHasVnni && HasOnlyUint8Activations(model) ? WeightsToUint8(model) : 0;
        return activations + weights > 0;
    }

    /// <summary>
    /// Rewrites every int8 zero-point-0 activation Q/DQ pair to uint8 (zero point 128; 0 after a Relu), in
    /// place; returns how many.
    /// </summary>
    public static int ToUint8(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        // A Relu's output is never negative: int8 0..127 is uint8 0..127 with zero point 0, and a zero point
        // at the bottom of the range lets ONNX Runtime fold the Relu into the convolution before it.
        const string centred = "edgeseg_uint8_zero_point_128";
        const string bottom = "edgeseg_uint8_zero_point_0";
        var converted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var q in graph.Node.Where(n => n.OpType == "QuantizeLinear" && IsInt8Zero(n, initializers)))
        {
            var nonNegative = producers.TryGetValue(q.Input[0], out var p) && p.OpType == "Relu";
            q.Input[2] = nonNegative ? bottom : centred;
            converted[q.Output[0]] = q.Input[2];
        }

        foreach (var dq in graph.Node.Where(n => n.OpType == "DequantizeLinear" && converted.ContainsKey(n.Input[0])))
        {
            dq.Input[2] = converted[dq.Input[0]];
        }

        foreach (var (name, value) in new[] { (centred, (byte)128), (bottom, (byte)0) })
        {
            if (converted.ContainsValue(name) && !initializers.ContainsKey(name))
            {
                graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom([value]) });
            }
        }

        // The int8 zero points nothing reads any more would only draw a warning from ONNX Runtime.
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in initializers.Values.Where(i => !used.Contains(i.Name) && i.DataType == (int)TensorProto.Types.DataType.Int8 && i.Dims.Count == 0).ToList())
        {
            graph.Initializer.Remove(stale);
        }

        return converted.Count;
    }

    /// <summary>
    /// Rewrites every int8 weight (a DequantizeLinear of an int8 initializer, zero point 0) to uint8 with
    /// zero point 128, in place: the same numbers (w_u8 = w_s8 + 128); returns how many. On x86 without
    /// VNNI, ONNX Runtime's uint8 × int8 kernels multiply with <c>vpmaddubsw</c>, which saturates a pair of
    /// products at 32767 (255 × 127 × 2 does not fit), so the convolutions compute wrong sums wherever
    /// activations are large; its uint8 × uint8 kernels widen to 16 bits first and are exact.
    /// </summary>
    public static int WeightsToUint8(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var dq in graph.Node.Where(n => n.OpType == "DequantizeLinear" && n.Input.Count == 3))
        {
            if (!initializers.TryGetValue(dq.Input[0], out var weights) || weights.DataType != (int)TensorProto.Types.DataType.Int8
                || !initializers.TryGetValue(dq.Input[2], out var zero) || zero.DataType != (int)TensorProto.Types.DataType.Int8
                || !AllZero(zero))
            {
                continue;
            }

            if (done.Add(weights.Name))
            {
                ShiftToUint8(weights);
                count++;
            }

            if (done.Add(zero.Name))
            {
                ShiftToUint8(zero);
            }
        }

        return count;
    }

    private static bool AllZero(TensorProto t) =>
        t.RawData.Length > 0 ? t.RawData.All(b => b == 0) : t.Int32Data.All(v => v == 0);

    /// <summary>int8 → uint8 with the same meaning under a zero point moved by 128: flip the sign bit.</summary>
    private static void ShiftToUint8(TensorProto t)
    {
        var bytes = t.RawData.Length > 0 ? t.RawData.ToByteArray() : [.. t.Int32Data.Select(v => (byte)(sbyte)v)];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] ^= 0x80;
        }

        t.Int32Data.Clear();
        t.RawData = ByteString.CopyFrom(bytes);
        t.DataType = (int)TensorProto.Types.DataType.Uint8;
    }

    private static bool IsInt8Zero(NodeProto q, Dictionary<string, TensorProto> initializers) =>
        q.Input.Count == 3
        && initializers.TryGetValue(q.Input[2], out var zp)
        && zp.DataType == (int)TensorProto.Types.DataType.Int8
        && zp.Dims.Count == 0
        && (zp.RawData.Length == 1 ? zp.RawData[0] == 0 : zp.Int32Data.Count == 1 && zp.Int32Data[0] == 0);
}
