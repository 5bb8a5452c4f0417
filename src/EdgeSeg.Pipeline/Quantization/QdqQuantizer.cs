using Google.Protobuf;
using Onnx;

namespace EdgeSeg.Pipeline.Quantization;

/// <summary>A model or calibration source that cannot be quantized; the message says what is wrong.</summary>
public sealed class QuantizationException(string message) : Exception(message);

/// <summary>Choices the quantizer makes from calibration.</summary>
public sealed record QuantizationOptions
{
    public CalibrationMethod Method { get; init; } = CalibrationMethod.Percentile;

    /// <summary>Percentile of the magnitudes for <see cref="CalibrationMethod.Percentile"/>.</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>An activation whose estimated int8 signal-to-noise ratio falls below this stays float.</summary>
    public double MinSignalToNoiseDb { get; init; } = 15;

}

/// <summary>Which tensors a QDQ model quantizes, decided from the float graph alone (before calibration).</summary>
/// <param name="Activations">Activation tensors that get a QuantizeLinear → DequantizeLinear pair, in graph order.</param>
/// <param name="SharedScale">Groups of activations that must share one scale (a Concat's inputs and output).</param>
/// <param name="Weights">Conv weight initializers, quantized per output channel.</param>
/// <param name="KeptFloat">Nodes left in float, each with the reason.</param>
public sealed record QuantizationPlan(
    IReadOnlyList<string> Activations,
    IReadOnlyList<IReadOnlyList<string>> SharedScale,
    IReadOnlyList<string> Weights,
    IReadOnlyList<KeptFloat> KeptFloat);

/// <summary>A node or tensor the quantized model computes in float, and why.</summary>
public sealed record KeptFloat(string Name, string OpType, string Reason);

/// <summary>The quantized model and what went into it.</summary>
public sealed record QuantizationResult(
    ModelProto Model,
    IReadOnlyDictionary<string, float> ActivationScales,
    IReadOnlyList<KeptFloat> KeptFloat,
    int QuantizedConvolutions)
{
    /// <summary>Exact graph simplifications made on the way (see <see cref="PaddingTapCropper"/>).</summary>
    public IReadOnlyList<string> Rewrites { get; init; } = [];
}

/// <summary>
/// Static post-training quantization of a float ONNX graph into the explicit QDQ form that TensorRT and ONNX
/// Runtime's CPU provider both accept:
/// <list type="bullet">
/// <item>Conv weights int8, symmetric, one scale per output channel (axis 0, depthwise and grouped
/// convolutions alike), values in [−127, 127], zero point 0, rounded half to even; biases stay float (ONNX
/// Runtime quantizes them itself from the input and weight scales, TensorRT wants them float).</item>
/// <item>Activations int8, symmetric, zero point 0, one scale per tensor from calibration: every Conv's
/// input, every Conv's output (so ONNX Runtime can fuse DQ → Conv → Q into one integer convolution; after
/// the Relu where a Relu is the Conv's only consumer), and
/// the inputs and outputs of Add and Concat; a Concat's inputs and output share one scale, so TensorRT can
/// drop the Concat and ONNX Runtime can run it without requantizing.</item>
/// <item>The end of the graph stays float: no tensor from which no Conv can be reached (the logits, their
/// resize to the input size and whatever follows), and any activation whose calibration shows int8 would
/// lose too much of it (<see cref="QuantizationOptions.MinSignalToNoiseDb"/>).</item>
/// </list>
/// </summary>
public static class QdqQuantizer
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int Int8Type = (int)TensorProto.Types.DataType.Int8;

    private static readonly HashSet<string> QuantizedOps =
        ["QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"];

    /// <summary>Refuses a model this quantizer cannot handle, saying why.</summary>
    public static void CheckQuantizable(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new QuantizationException("the file has no graph");
        var already = graph.Node.FirstOrDefault(n => QuantizedOps.Contains(n.OpType));
        if (already is not null)
        {
            throw new QuantizationException($"the model is already quantized (it has a {already.OpType} node '{already.Name}'); quantize its float original");
        }

        var opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < 13)
        {
            throw new QuantizationException($"the model uses ONNX opset {opset}; per-channel QDQ needs opset 13 or later (export it again with opset_version=13)");
        }

        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new QuantizationException($"the model has {inputs.Count} inputs; the appliance feeds exactly one image tensor");
        }

        var input = inputs[0];
        var type = input.Type?.TensorType;
        if (type is null || type.ElemType != FloatType)
        {
            var name = type is null ? "a non-tensor" : ((TensorProto.Types.DataType)type.ElemType).ToString();
            throw new QuantizationException($"input '{input.Name}' is {name}; the quantizer calibrates float32 image inputs (export the model with a float input)");
        }

        var dims = type.Shape?.Dim;
        if (dims is null || dims.Count != 4 || dims.Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue <= 0))
        {
            var shape = dims is null ? "unknown" : "[" + string.Join(", ", dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam is { Length: > 0 } p ? p : "?")) + "]";
            throw new QuantizationException($"input '{input.Name}' has shape {shape}; the quantizer needs a static 4-D shape (export with fixed batch, height and width)");
        }

        if (!graph.Node.Any(n => n.OpType == "Conv"))
        {
            throw new QuantizationException("the model has no Conv node; there is nothing for int8 to speed up");
        }

        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv"))
        {
            if (conv.Input.Count < 2 || !initializers.Contains(conv.Input[1]))
            {
                throw new QuantizationException($"Conv '{conv.Name}' takes its weight from another node, not a constant; fold constants before quantizing");
            }

            var weight = graph.Initializer.First(i => i.Name == conv.Input[1]);
            if (weight.DataType != FloatType)
            {
                throw new QuantizationException($"Conv '{conv.Name}' has {(TensorProto.Types.DataType)weight.DataType} weights; the quantizer takes float32 models");
            }
        }
    }

    /// <summary>Decides which tensors to quantize (see the class summary for the rules).</summary>
    public static QuantizationPlan Plan(ModelProto model)
    {
        CheckQuantizable(model);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var reachesConv = TensorsReachingConv(graph);
        var types = ElementTypes(graph);
        var uses = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                if (!uses.TryGetValue(input, out var list))
                {
                    uses[input] = list = [];
                }

                list.Add(node);
            }
        }

        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<KeptFloat>();
        var keptNames = new HashSet<string>(StringComparer.Ordinal);

        void Want(string tensor, NodeProto node)
        {
            if (string.IsNullOrEmpty(tensor) || initializers.ContainsKey(tensor) || types.GetValueOrDefault(tensor) != FloatType)
            {
                return;
            }

            if (!reachesConv.Contains(tensor))
            {
                if (keptNames.Add(node.Name))
                {
                    kept.Add(new KeptFloat(node.Name, node.OpType, "at the end of the graph (no convolution follows): logits and their resize stay float"));
                }

                return;
            }

            wanted.Add(tensor);
        }

        foreach (var node in graph.Node)
        {
            switch (node.OpType)
            {
                case "Conv":
                    Want(node.Input[0], node);

                    // Conv → Relu: quantize after the Relu only. TensorRT fuses Conv + Relu + Q, and ONNX
                    // Runtime folds a Relu into the integer convolution when the Q after it starts at zero.
                    if (uses.TryGetValue(node.Output[0], out var next) && next is [{ OpType: "Relu" } relu])
                    {
                        Want(relu.Output[0], relu);
                    }
                    else
                    {
                        Want(node.Output[0], node);
                    }

                    break;
                case "Add":
                case "Mul":
                case "Concat":
                    foreach (var input in node.Input)
                    {
                        Want(input, node);
                    }

                    Want(node.Output[0], node);
                    break;
            }
        }

        // Graph order: each tensor's Q/DQ goes right after the node that makes it.
        var order = new List<string>();
        foreach (var input in graph.Input)
        {
            if (wanted.Contains(input.Name))
            {
                order.Add(input.Name);
            }
        }

        foreach (var node in graph.Node)
        {
            order.AddRange(node.Output.Where(wanted.Contains));
        }

        var shared = new List<IReadOnlyList<string>>();
        foreach (var concat in graph.Node.Where(n => n.OpType == "Concat"))
        {
            var group = concat.Input.Append(concat.Output[0]).Where(wanted.Contains).Distinct().ToList();
            if (group.Count > 1)
            {
                shared.Add(group);
            }
        }

        var weights = graph.Node.Where(n => n.OpType == "Conv").Select(n => n.Input[1]).Distinct().ToList();
        return new QuantizationPlan(order, MergeGroups(shared), weights, kept);
    }

    /// <summary>
    /// Writes the QDQ model: activation thresholds come from <paramref name="statistics"/> (one histogram per
    /// planned activation) by <paramref name="options"/>' method; a shared-scale group takes the largest
    /// threshold of its members.
    /// </summary>
    /// <param name="model">The float model.</param>
    /// <param name="plan">What <see cref="Plan"/> decided for it.</param>
    /// <param name="statistics">Calibration histograms, one per planned activation.</param>
    /// <param name="options">Calibration method and the float fallback threshold.</param>
    /// <param name="shapes">Activation shapes from calibration; where given, kernel taps that only read padding are cropped first.</param>
    public static QuantizationResult Quantize(
        ModelProto model, QuantizationPlan plan, IReadOnlyDictionary<string, ActivationHistogram> statistics, QuantizationOptions options,
        IReadOnlyDictionary<string, long[]>? shapes = null)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(options);
        var thresholds = new Dictionary<string, double>(StringComparer.Ordinal);
        var kept = new List<KeptFloat>(plan.KeptFloat);
        var floatTensors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in plan.Activations)
        {
            if (!statistics.TryGetValue(tensor, out var histogram) || histogram.Count == 0)
            {
                throw new QuantizationException($"no calibration data for activation '{tensor}'");
            }

            var threshold = histogram.Threshold(options.Method, options.Percentile);
            thresholds[tensor] = threshold;
            var snr = histogram.SignalToNoiseDb(threshold);
            var flushed = histogram.FlushedToZero(threshold);
            if (snr < options.MinSignalToNoiseDb)
            {
                floatTensors.Add(tensor);
                kept.Add(new KeptFloat(tensor, "tensor", string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"ill-conditioned: int8 would keep {snr:0.0} dB of it and round {flushed:P0} of its non-zero values to 0 (|max| {histogram.AbsMax:0.###}, threshold {threshold:0.###})")));
            }
        }

        // A group shares one scale; if any member must stay float, the whole group does.
        foreach (var group in plan.SharedScale)
        {
            if (group.Any(floatTensors.Contains))
            {
                foreach (var t in group)
                {
                    floatTensors.Add(t);
                }

                continue;
            }

            var max = group.Max(t => thresholds[t]);
            foreach (var t in group)
            {
                thresholds[t] = max;
            }
        }

        var scales = plan.Activations.Where(t => !floatTensors.Contains(t))
            .ToDictionary(t => t, t => ScaleFor(thresholds[t]), StringComparer.Ordinal);
        IReadOnlyList<string> rewrites = [];
        if (shapes is not null)
        {
            model = model.Clone();
            rewrites = PaddingTapCropper.Crop(model, shapes);
        }

        return Rewrite(model, plan, scales, kept) with { Rewrites = rewrites };
    }

    /// <summary>Writes the QDQ model with the activation scales given (the calibration-free core, also used by tests).</summary>
    public static QuantizationResult Rewrite(ModelProto model, QuantizationPlan plan, IReadOnlyDictionary<string, float> scales, IReadOnlyList<KeptFloat>? kept = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(scales);
        var result = model.Clone();
        var graph = result.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var names = new UniqueNames(graph);

        // Weights first: int8 per-channel initializers and their DequantizeLinear nodes lead the graph.
        var head = new List<NodeProto>();
        var weightOutputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in plan.Weights)
        {
            var weight = initializers[name];
            var (q, channelScales) = QuantizeWeights(weight);
            var qName = names.Make(name + "_quantized");
            var scaleName = names.Make(name + "_scale");
            var zeroName = names.Make(name + "_zero_point");
            var output = names.Make(name + "_dequantized");
            var qTensor = new TensorProto { Name = qName, DataType = Int8Type, RawData = ByteString.CopyFrom((ReadOnlySpan<byte>)System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan())) };
            qTensor.Dims.AddRange(weight.Dims);
            graph.Initializer.Add(qTensor);
            graph.Initializer.Add(FloatVector(scaleName, channelScales));
            var zero = new TensorProto { Name = zeroName, DataType = Int8Type, RawData = ByteString.CopyFrom(new byte[channelScales.Length]) };
            zero.Dims.Add(channelScales.Length);
            graph.Initializer.Add(zero);
            var dq = new NodeProto { OpType = "DequantizeLinear", Name = names.Make(name + "_DequantizeLinear") };
            dq.Input.AddRange([qName, scaleName, zeroName]);
            dq.Output.Add(output);
            dq.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            head.Add(dq);
            weightOutputs[name] = output;
        }

        // One DequantizeLinear per use: ONNX Runtime fuses DQ → op → Q only where each DQ feeds one node, and
        // converts int8 pairs to the uint8 its x86 kernels want only where a Q feeds one DQ... so a shared
        // tensor gets one Q and a DQ for each consumer. TensorRT reads either form the same way.
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                uses[input] = uses.GetValueOrDefault(input) + 1;
            }
        }

        var dequantized = new Dictionary<string, Queue<string>>(StringComparer.Ordinal);
        var dequantizedNames = new HashSet<string>(StringComparer.Ordinal);
        var pairs = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var tensor in plan.Activations)
        {
            if (!scales.TryGetValue(tensor, out var scale))
            {
                continue;
            }

            if (!(scale > 0) || !float.IsFinite(scale))
            {
                throw new QuantizationException($"activation '{tensor}' got scale {scale}; a scale must be positive and finite");
            }

            var scaleName = names.Make(tensor + "_scale");
            var zeroName = names.Make(tensor + "_zero_point");
            graph.Initializer.Add(FloatScalar(scaleName, scale));
            graph.Initializer.Add(new TensorProto { Name = zeroName, DataType = Int8Type, RawData = ByteString.CopyFrom(new byte[1]) });
            var qOut = names.Make(tensor + "_quantized");
            var q = new NodeProto { OpType = "QuantizeLinear", Name = names.Make(tensor + "_QuantizeLinear") };
            q.Input.AddRange([tensor, scaleName, zeroName]);
            q.Output.Add(qOut);
            var list = new List<NodeProto> { q };
            var outputs = new Queue<string>();
            for (var k = 0; k < Math.Max(1, uses.GetValueOrDefault(tensor)); k++)
            {
                var dqOut = names.Make(tensor + "_dequantized");
                var dq = new NodeProto { OpType = "DequantizeLinear", Name = names.Make(tensor + "_DequantizeLinear") };
                dq.Input.AddRange([qOut, scaleName, zeroName]);
                dq.Output.Add(dqOut);
                list.Add(dq);
                outputs.Enqueue(dqOut);
                dequantizedNames.Add(dqOut);
            }

            pairs[tensor] = list;
            dequantized[tensor] = outputs;
        }

        var nodes = new List<NodeProto>(head);
        foreach (var input in graph.Input)
        {
            if (pairs.TryGetValue(input.Name, out var pair))
            {
                nodes.AddRange(pair);
            }
        }

        var convs = 0;
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (node.OpType == "Conv" && i == 1 && weightOutputs.TryGetValue(node.Input[1], out var w))
                {
                    node.Input[1] = w;
                }
                else if (dequantized.TryGetValue(node.Input[i], out var dq))
                {
                    node.Input[i] = dq.Dequeue();
                }
            }

            if (node.OpType == "Conv" && dequantizedNames.Contains(node.Input[0]))
            {
                convs++;
            }

            nodes.Add(node);
            foreach (var output in node.Output)
            {
                if (pairs.TryGetValue(output, out var pair))
                {
                    nodes.AddRange(pair);
                }
            }
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);

        // The float weights are gone from every Conv; drop those no other node reads.
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var name in plan.Weights.Where(w => !used.Contains(w)))
        {
            graph.Initializer.Remove(initializers[name]);
        }

        return new QuantizationResult(result, scales.ToDictionary(), kept ?? plan.KeptFloat, convs);
    }

    /// <summary>Activation scale for a clipping threshold: threshold / 127 (a tensor of zeros gets 1).</summary>
    public static float ScaleFor(double threshold) => threshold > 0 ? (float)(threshold / 127.0) : 1f;

    /// <summary>
    /// Symmetric per-output-channel int8: scale_c = max|W_c| / 127, q = round-half-even(W / scale_c) clamped
    /// to [−127, 127]. A channel of zeros gets scale 1 (any scale represents it exactly).
    /// </summary>
    public static (sbyte[] Values, float[] Scales) QuantizeWeights(TensorProto weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var values = FloatData(weight);
        var channels = (int)weight.Dims[0];
        var per = values.Length / channels;
        var q = new sbyte[values.Length];
        var scales = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var slice = values.AsSpan(c * per, per);
            var max = 0f;
            foreach (var v in slice)
            {
                max = Math.Max(max, Math.Abs(v));
            }

            var scale = max > 0 ? max / 127f : 1f;
            scales[c] = scale;
            for (var k = 0; k < per; k++)
            {
                q[(c * per) + k] = QuantizeValue(slice[k], scale);
            }
        }

        return (q, scales);
    }

    /// <summary>One value to symmetric int8 at <paramref name="scale"/>: round half to even, clamp to [−127, 127].</summary>
    public static sbyte QuantizeValue(float value, float scale) =>
        (sbyte)Math.Clamp(Math.Round(value / scale, MidpointRounding.ToEven), -127, 127);

    /// <summary>The float values of an initializer (raw data or the float_data field).</summary>
    public static float[] FloatData(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DataType != FloatType)
        {
            throw new QuantizationException($"initializer '{tensor.Name}' is {(TensorProto.Types.DataType)tensor.DataType}, not float32");
        }

        if (!tensor.RawData.IsEmpty)
        {
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        }

        return [.. tensor.FloatData];
    }

    private static TensorProto FloatScalar(string name, float value)
    {
        var t = new TensorProto { Name = name, DataType = FloatType };
        t.FloatData.Add(value);
        return t;
    }

    private static TensorProto FloatVector(string name, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = FloatType };
        t.Dims.Add(values.Length);
        t.FloatData.AddRange(values);
        return t;
    }

    /// <summary>
    /// Element type of every tensor, propagated forward: inputs and initializers as declared, Constant by its
    /// value, Shape gives int64, Cast its target, and every other operator here keeps its first input's type
    /// (true of the operators segmentation graphs use; a Shape → Slice → Concat chain stays int64).
    /// </summary>
    private static Dictionary<string, int> ElementTypes(GraphProto graph)
    {
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Input)
        {
            types[input.Name] = input.Type?.TensorType?.ElemType ?? 0;
        }

        foreach (var init in graph.Initializer)
        {
            types[init.Name] = init.DataType;
        }

        foreach (var node in graph.Node)
        {
            var type = node.OpType switch
            {
                "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" => (int)TensorProto.Types.DataType.Int64,
                "Cast" => (int)(node.Attribute.FirstOrDefault(a => a.Name == "to")?.I ?? 0),
                "Constant" => node.Attribute.FirstOrDefault(a => a.Name == "value")?.T?.DataType ?? 0,
                "Equal" or "Less" or "Greater" or "Not" or "And" or "Or" => (int)TensorProto.Types.DataType.Bool,
                _ => node.Input.Count > 0 ? types.GetValueOrDefault(node.Input[0]) : 0,
            };
            foreach (var output in node.Output)
            {
                types[output] = type;
            }
        }

        return types;
    }

    /// <summary>Tensors from which some Conv's activation input can be reached (walking the graph backwards).</summary>
    private static HashSet<string> TensorsReachingConv(GraphProto graph)
    {
        var reach = new HashSet<string>(StringComparer.Ordinal);
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            var feeds = node.OpType == "Conv" || node.Output.Any(reach.Contains);
            if (!feeds)
            {
                continue;
            }

            if (node.OpType == "Conv")
            {
                reach.Add(node.Input[0]);
            }
            else
            {
                foreach (var input in node.Input.Where(s => !string.IsNullOrEmpty(s)))
                {
                    reach.Add(input);
                }
            }
        }

        return reach;
    }

    private static List<IReadOnlyList<string>> MergeGroups(List<IReadOnlyList<string>> groups)
    {
        // Concats that share a tensor share a scale: merge overlapping groups.
        var merged = new List<HashSet<string>>();
        foreach (var group in groups)
        {
            var into = merged.Where(m => group.Any(m.Contains)).ToList();
            var set = new HashSet<string>(group, StringComparer.Ordinal);
            foreach (var m in into)
            {
                set.UnionWith(m);
                merged.Remove(m);
            }

            merged.Add(set);
        }

        return merged.Select(m => (IReadOnlyList<string>)m.ToList()).ToList();
    }

    /// <summary>Names not yet used by any tensor or node of the graph.</summary>
    private sealed class UniqueNames
    {
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        public UniqueNames(GraphProto graph)
        {
            foreach (var n in graph.Node)
            {
                _used.Add(n.Name);
                _used.UnionWith(n.Input);
                _used.UnionWith(n.Output);
            }

            _used.UnionWith(graph.Initializer.Select(i => i.Name));
            _used.UnionWith(graph.Input.Select(i => i.Name));
        }

        public string Make(string wanted)
        {
            var name = wanted;
            for (var k = 2; !_used.Add(name); k++)
            {
                name = $"{wanted}_{k}";
            }

            return name;
        }
    }
}
