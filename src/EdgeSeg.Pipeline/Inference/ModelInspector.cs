using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Google.Protobuf;
using Onnx;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>One convolution of the graph, with the output size it has at the model's input size.</summary>
public sealed record ConvLayer(
    string Name, string Input, string Output, int OutChannels, int InChannelsPerGroup, int KernelH, int KernelW,
    int Groups, int Dilation, int Stride, int OutHeight, int OutWidth)
{
    /// <summary>Multiply-accumulates of one run.</summary>
    public long Macs => (long)OutHeight * OutWidth * OutChannels * InChannelsPerGroup * KernelH * KernelW;
}

/// <summary>An atrous spatial pyramid pooling block found in the graph.</summary>
public sealed record AsppBlock(
    string InputTensor, int InputChannels, int InputHeight, int InputWidth, bool HasOneByOneBranch,
    IReadOnlyList<int> Rates, bool HasImagePooling, int BranchChannels, int? ProjectionChannels)
{
    /// <summary>Kernel size of each atrous branch, in the order of <see cref="Rates"/> ("3x3"; "1x3" where a quantizer cropped taps that only read padding).</summary>
    public IReadOnlyList<string> Kernels { get; init; } = [];
}

/// <summary>
/// A DeepLabV3+ decoder found in the graph: low-level features at <paramref name="Stride"/> projected by a
/// 1x1 convolution to <paramref name="SkipChannels"/>, concatenated with the upsampled encoder output, then
/// convolutions of <paramref name="Channels"/> (<paramref name="SeparableConvs"/> of them depthwise-separable)
/// and a classifier. <paramref name="Residual"/>: its logits are added to the encoder's own, at
/// <paramref name="JoinStride"/> (the decoder's stride when the encoder's logits are upsampled to its grid and
/// the sum is upsampled once; 1 when both are upsampled to the input size first); null when not residual.
/// </summary>
public sealed record DecoderBlock(
    int Stride, int SkipInputChannels, int SkipChannels, int EncoderChannels, int Channels, int SeparableConvs, bool Residual,
    int? JoinStride = null);

/// <summary>What <see cref="ModelInspector"/> found in a model.</summary>
public sealed record ModelInspection(
    ModelDescription Model,
    long FileBytes,
    long Parameters,
    IReadOnlyList<ConvLayer> Convolutions,
    int? OutputStride,
    IReadOnlyList<int> AtrousRates,
    AsppBlock? Aspp,
    DecoderBlock? Decoder,
    bool Quantized)
{
    public long Macs => Convolutions.Sum(c => c.Macs);

    /// <summary>Floating-point operations per frame, counting a multiply-accumulate as two.</summary>
    public double GigaFlops => 2.0 * Macs / 1e9;

    public int AtrousConvolutions => Convolutions.Count(c => c.Dilation > 1);
}

/// <summary>
/// Reads a DeepLab-style model's structure: parameters, convolution cost at the input size, output
/// stride, atrous rates and the ASPP block. Spatial sizes are not guessed from attributes: the graph is
/// run once on a blank frame with every convolution's output exposed, so they are what the model does.
/// </summary>
public static class ModelInspector
{
    private static readonly HashSet<int> WeightTypes =
    [
        (int)TensorProto.Types.DataType.Float, (int)TensorProto.Types.DataType.Float16, (int)TensorProto.Types.DataType.Bfloat16,
        (int)TensorProto.Types.DataType.Int8, (int)TensorProto.Types.DataType.Uint8, (int)TensorProto.Types.DataType.Double,
    ];

    public static ModelInspection Inspect(OnnxSegmenter segmenter)
    {
        ArgumentNullException.ThrowIfNull(segmenter);
        var description = segmenter.Model;
        var bytes = File.ReadAllBytes(description.Path);
        var model = ModelProto.Parser.ParseFrom(bytes);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, t => t);
        var producers = new Dictionary<string, NodeProto>();
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        var parameters = graph.Initializer.Where(t => WeightTypes.Contains(t.DataType)).Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
        var quantized = graph.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear" or "QLinearConv" or "ConvInteger");
        var convNodes = graph.Node.Where(n => n.OpType == "Conv").ToList();
        var shapes = ConvOutputShapes(model, convNodes, description);

        var convs = new List<ConvLayer>();
        foreach (var node in convNodes)
        {
            var weight = WeightDims(node.Input[1], initializers, producers);
            var shape = shapes[node.Output[0]];
            var dilation = Ints(node, "dilations").DefaultIfEmpty(1).Max();
            var stride = Ints(node, "strides").DefaultIfEmpty(1).Max();
            var group = (int)(node.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1);
            convs.Add(new ConvLayer(
                node.Name, Unquantized(node.Input[0], producers), node.Output[0], (int)weight[0], (int)weight[1], (int)weight[2], (int)weight[3],
                group, (int)dilation, (int)stride, (int)shape[2], (int)shape[3]));
        }

        // Output stride: input size over the smallest feature map, leaving out 1x1 maps (image pooling).
        var smallest = convs.Where(c => c.OutHeight > 1 || c.OutWidth > 1).Select(c => c.OutHeight).DefaultIfEmpty(0).Min();
        int? outputStride = smallest > 0 ? description.Height / smallest : null;
        var rates = convs.Where(c => c.Dilation > 1).Select(c => c.Dilation).Distinct().Order().ToList();
        var aspp = FindAspp(graph, convs);
        var decoder = outputStride is { } os ? FindDecoder(graph, convs, producers, description.Height, os) : null;
        return new ModelInspection(description, bytes.LongLength, parameters, convs, outputStride, rates, aspp, decoder, quantized);
    }

    private static AsppBlock? FindAspp(GraphProto graph, List<ConvLayer> convs)
    {
        // ASPP: parallel convolutions of one feature map, at least two of them atrous with different rates.
        var group = convs.GroupBy(c => c.Input)
            .FirstOrDefault(g => g.Where(c => c.Dilation > 1).Select(c => c.Dilation).Distinct().Count() >= 2);
        if (group is null)
        {
            return null;
        }

        var branches = group.ToList();
        var input = group.Key;
        var producers = new Dictionary<string, NodeProto>();
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        var pooling = graph.Node.Any(n => n.OpType is "GlobalAveragePool" or "ReduceMean" or "AveragePool" && n.Input.Any(i => Unquantized(i, producers) == input));
        var first = branches[0];

        // The projection: the 1x1 convolution right after the Concat that joins the branches.
        int? projection = null;
        var branchOutputs = branches.Select(b => b.Output).ToHashSet();
        var nodes = graph.Node.ToList();
        var start = nodes.FindIndex(n => branchOutputs.Contains(n.Output.FirstOrDefault() ?? string.Empty));
        var concat = nodes.Skip(Math.Max(start, 0)).FirstOrDefault(n => n.OpType == "Concat" && n.Input.Count >= branches.Count);
        if (concat is not null)
        {
            projection = convs.FirstOrDefault(c => c.Input == concat.Output[0] && c.KernelH == 1)?.OutChannels;
        }

        return new AsppBlock(
            input,
            first.InChannelsPerGroup * first.Groups,
            first.OutHeight * first.Stride,
            first.OutWidth * first.Stride,
            branches.Any(b => b.KernelH == 1 && b.Dilation == 1),
            branches.Where(b => b.Dilation > 1).Select(b => b.Dilation).Order().ToList(),
            pooling,
            first.OutChannels,
            projection)
        {
            Kernels = branches.Where(b => b.Dilation > 1).OrderBy(b => b.Dilation).Select(b => $"{b.KernelH}x{b.KernelW}").ToList(),
        };
    }

    private static DecoderBlock? FindDecoder(
        GraphProto graph, List<ConvLayer> convs, Dictionary<string, NodeProto> producers, int inputHeight, int outputStride)
    {
        // A decoder joins (Concat) a 1x1 projection of features finer than the output stride with the
        // encoder's output upsampled to the same size, and convolves the result at that size.
        var byOutput = convs.ToDictionary(c => c.Output);
        var nodes = graph.Node.ToList();
        for (var index = 0; index < nodes.Count; index++)
        {
            var concat = nodes[index];
            if (concat.OpType != "Concat" || concat.Input.Count < 2)
            {
                continue;
            }

            var skip = concat.Input.Select(i => SourceConv(i, producers, byOutput)).FirstOrDefault(c => c is { KernelH: 1, KernelW: 1 });
            var upsampled = concat.Input.FirstOrDefault(i => Producer(i, producers)?.OpType == "Resize");
            if (skip is null || upsampled is null || skip.OutHeight <= inputHeight / outputStride)
            {
                continue;
            }

            var inputConv = convs.FirstOrDefault(c => c.Output == skip.Input) ?? SourceConv(skip.Input, producers, byOutput);
            var after = convs.Where(c => nodes.FindIndex(n => n.Output.Count > 0 && n.Output[0] == c.Output) > index && c.OutHeight == skip.OutHeight).ToList();
            if (after.Count == 0)
            {
                continue;
            }

            var classes = after[^1].OutChannels;
            var body = after.Where(c => c.OutChannels != classes || c.Groups > 1).ToList();
            var pointwise = body.Where(c => c.Groups == 1).ToList();
            var separable = body.Count(c => c.Groups > 1 && c.Groups == c.OutChannels && c.InChannelsPerGroup == 1);
            // Residual joins: Add(Resize(encoder logits), Resize(decoder logits)) at the output, or
            // Resize(Add(Resize(encoder logits), decoder logits)) — the sum taken on the decoder's grid.
            var outputNode = Producer(graph.Output[0].Name, producers);
            int? joinStride = null;
            if (outputNode is { OpType: "Add" } && outputNode.Input.All(i => Producer(i, producers)?.OpType == "Resize"))
            {
                joinStride = 1;
            }
            else if (outputNode is { OpType: "Resize" } && Producer(outputNode.Input[0], producers) is { OpType: "Add" } sum
                     && sum.Input.Count(i => Producer(i, producers)?.OpType == "Resize") == 1
                     && sum.Input.Any(i => SourceConv(i, producers, byOutput) is { } c && c.Output == after[^1].Output))
            {
                joinStride = inputHeight / skip.OutHeight;
            }

            var joined = after[0].InChannelsPerGroup * after[0].Groups;
            return new DecoderBlock(
                inputHeight / skip.OutHeight,
                inputConv?.OutChannels ?? skip.InChannelsPerGroup * skip.Groups,
                skip.OutChannels,
                joined - skip.OutChannels,
                pointwise.Count > 0 ? pointwise.Max(c => c.OutChannels) : classes,
                separable,
                joinStride is not null,
                joinStride);
        }

        return null;
    }

    /// <summary>
    /// The float tensor a QDQ model quantized to make <paramref name="tensor"/> (DequantizeLinear of
    /// QuantizeLinear of it), or the tensor itself: branches that read one map through their own
    /// DequantizeLinear nodes still read one map.
    /// </summary>
    private static string Unquantized(string tensor, Dictionary<string, NodeProto> producers) =>
        producers.TryGetValue(tensor, out var dq) && dq.OpType == "DequantizeLinear"
        && producers.TryGetValue(dq.Input[0], out var q) && q.OpType == "QuantizeLinear"
            ? q.Input[0]
            : tensor;

    /// <summary>The node that makes a tensor, looking through quantize/dequantize pairs.</summary>
    private static NodeProto? Producer(string tensor, Dictionary<string, NodeProto> producers)
    {
        for (var hops = 0; hops < 4 && producers.TryGetValue(tensor, out var node); hops++)
        {
            if (node.OpType is not ("QuantizeLinear" or "DequantizeLinear"))
            {
                return node;
            }

            tensor = node.Input[0];
        }

        return null;
    }

    /// <summary>The convolution a tensor comes from, through element-wise activations.</summary>
    private static ConvLayer? SourceConv(string tensor, Dictionary<string, NodeProto> producers, Dictionary<string, ConvLayer> convs)
    {
        for (var hops = 0; hops < 4; hops++)
        {
            if (convs.TryGetValue(tensor, out var conv))
            {
                return conv;
            }

            if (!producers.TryGetValue(tensor, out var node) || node.OpType is not ("Relu" or "Clip" or "HardSwish" or "Identity" or "DequantizeLinear" or "QuantizeLinear"))
            {
                return null;
            }

            tensor = node.Input[0];
        }

        return null;
    }

    private static long[] WeightDims(string name, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producers)
    {
        // Float models keep weights as initializers; QDQ models dequantize an int8 initializer first.
        for (var hops = 0; hops < 4; hops++)
        {
            if (initializers.TryGetValue(name, out var tensor))
            {
                return [.. tensor.Dims];
            }

            if (!producers.TryGetValue(name, out var node) || node.Input.Count == 0)
            {
                break;
            }

            name = node.Input[0];
        }

        throw new InvalidOperationException($"convolution weight '{name}' is not a constant of the graph");
    }

    private static IEnumerable<long> Ints(NodeProto node, string attribute) =>
        node.Attribute.FirstOrDefault(a => a.Name == attribute)?.Ints ?? Enumerable.Empty<long>();

    private static Dictionary<string, long[]> ConvOutputShapes(ModelProto model, List<NodeProto> convs, ModelDescription description)
    {
        var graph = model.Graph;
        var declared = graph.Output.Select(o => o.Name).ToHashSet();
        var wanted = convs.Select(c => c.Output[0]).Distinct().ToList();
        foreach (var name in wanted.Where(n => !declared.Contains(n)))
        {
            graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model.ToByteArray(), options);
        var shape = description.Layout == TensorLayout.NCHW
            ? new[] { 1, 3, description.Height, description.Width }
            : [1, description.Height, description.Width, 3];
        var input = description.ElementType == InputElementType.Float32
            ? NamedOnnxValue.CreateFromTensor(description.InputName, new DenseTensor<float>(shape))
            : NamedOnnxValue.CreateFromTensor(description.InputName, new DenseTensor<byte>(shape));
        using var results = session.Run([input], wanted);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().Dimensions.ToArray().Select(d => (long)d).ToArray());
    }
}
