using System.Runtime.InteropServices;
using EdgeSeg.Pipeline.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EdgeSeg.Pipeline.Tests.Quantization;

public class QdqQuantizerTests
{
    private const int Int8 = (int)TensorProto.Types.DataType.Int8;

    [Fact]
    public void Weights_are_symmetric_per_output_channel_rounded_half_to_even_and_never_minus_128()
    {
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        weight.Dims.AddRange([3, 1, 1, 4]);
        weight.FloatData.AddRange([
            1f, -2f, 0.5f, 0.25f,    // max 2: scale 2/127; 1 → 63.5 → 64 (even), −2 → −127, 0.5 → 31.75 → 32
            0f, 0f, 0f, 0f,          // all zero: any scale is exact, 1 is used
            127f, 0.5f, 1.5f, -2.5f, // scale 1: 0.5 → 0, 1.5 → 2, −2.5 → −2 (ties to even)
        ]);

        var (q, scales) = QdqQuantizer.QuantizeWeights(weight);

        Assert.Equal([2f / 127f, 1f, 1f], scales);
        Assert.Equal(new sbyte[] { 64, -127, 32, 16, 0, 0, 0, 0, 127, 0, 2, -2 }, q);
        Assert.DoesNotContain((sbyte)-128, q);
    }

    [Fact]
    public void A_single_conv_gets_qdq_on_its_input_and_int8_per_channel_weights_and_keeps_its_float_bias()
    {
        var g = new OnnxGraphs(channels: 2);
        var output = g.Conv("conv", "input", 2, 4);
        var model = g.Model(output);

        var plan = QdqQuantizer.Plan(model);
        Assert.Equal(["input"], plan.Activations);           // the conv's output is the logits: it stays float
        Assert.Contains(plan.KeptFloat, k => k.Name == "conv");

        var result = QdqQuantizer.Rewrite(model, plan, new Dictionary<string, float> { ["input"] = 0.02f });
        var graph = result.Model.Graph;
        var conv = graph.Node.Single(n => n.OpType == "Conv");
        var producers = graph.Node.ToDictionary(n => n.Output[0]);
        var inits = graph.Initializer.ToDictionary(i => i.Name);

        var inputDq = producers[conv.Input[0]];
        Assert.Equal("DequantizeLinear", inputDq.OpType);
        var inputQ = producers[inputDq.Input[0]];
        Assert.Equal("QuantizeLinear", inputQ.OpType);
        Assert.Equal(0.02f, inits[inputQ.Input[1]].FloatData.Single());
        Assert.Equal(Int8, inits[inputQ.Input[2]].DataType);
        Assert.Equal(0, (sbyte)inits[inputQ.Input[2]].RawData[0]);

        var weightDq = producers[conv.Input[1]];
        Assert.Equal("DequantizeLinear", weightDq.OpType);
        Assert.Equal(0, weightDq.Attribute.Single(a => a.Name == "axis").I);
        var qWeight = inits[weightDq.Input[0]];
        Assert.Equal(Int8, qWeight.DataType);
        Assert.Equal(4, inits[weightDq.Input[1]].Dims.Single());
        Assert.All(inits[weightDq.Input[2]].RawData, b => Assert.Equal(0, b));
        var expected = QdqQuantizer.QuantizeWeights(model.Graph.Initializer.Single(i => i.Name == "conv.w"));
        Assert.Equal(expected.Values, MemoryMarshal.Cast<byte, sbyte>(qWeight.RawData.Span).ToArray());
        Assert.Equal(expected.Scales, inits[weightDq.Input[1]].FloatData);

        Assert.Equal("conv.b", conv.Input[2]);               // the bias is the float initializer, untouched
        Assert.Equal((int)TensorProto.Types.DataType.Float, inits["conv.b"].DataType);
        Assert.DoesNotContain(graph.Initializer, i => i.Name == "conv.w");

        AssertRunsClose(model, result.Model, 2, 8, 16, tolerance: 0.05f);
    }

    [Fact]
    public void A_residual_block_quantizes_after_the_relu_and_gives_each_add_input_its_own_scale()
    {
        var (model, r, b, sum) = ResidualBlock();

        var plan = QdqQuantizer.Plan(model);

        // No Q between conv_a and its Relu: TensorRT fuses Conv + Relu + Q, ONNX Runtime folds the Relu.
        Assert.Equal(["input", r, b, sum], plan.Activations);
        Assert.Empty(plan.SharedScale);

        var stats = Histograms(plan, new() { ["input"] = 1f, [r] = 2f, [b] = 3f, [sum] = 5f });
        var result = QdqQuantizer.Quantize(model, plan, stats, new QuantizationOptions { Method = CalibrationMethod.MinMax });

        // TensorRT fuses an Add into the convolution before it with each input at its own scale, and ONNX
        // Runtime's QLinearAdd takes one scale per input, so the Add's inputs are not forced to share one.
        Assert.Equal(2f / 127f, result.ActivationScales[r], 6);
        Assert.Equal(3f / 127f, result.ActivationScales[b], 6);
        Assert.Equal(5f / 127f, result.ActivationScales[sum], 6);
        Assert.Equal(3, result.QuantizedConvolutions);

        var calibrated = QdqQuantizer.Quantize(model, plan, Observed(model, plan, Input(3, 8, 16), 3, 8, 16), new QuantizationOptions { Method = CalibrationMethod.MinMax });
        AssertRunsClose(model, calibrated.Model, 3, 8, 16, tolerance: 0.05f);
    }

    [Fact]
    public void A_concat_of_branches_shares_one_scale_the_largest_of_its_inputs_and_output()
    {
        // ASPP in small: two branches of the same map, concatenated, projected.
        var g = new OnnxGraphs(channels: 3);
        var one = g.Conv("branch_1x1", "input", 3, 2, kernel: 1);
        var atrous = g.Conv("branch_rate2", "input", 3, 2, dilation: 2);
        var cat = g.Op("Concat", "concat", one, atrous);
        var output = g.Conv("project", cat, 4, 2, kernel: 1);
        var model = g.Model(output);

        var plan = QdqQuantizer.Plan(model);
        var group = Assert.Single(plan.SharedScale);
        Assert.Equal(new[] { one, atrous, cat }.Order(), group.Order());

        var stats = Histograms(plan, new() { ["input"] = 1f, [one] = 2f, [atrous] = 4f, [cat] = 4f });
        var result = QdqQuantizer.Quantize(model, plan, stats, new QuantizationOptions { Method = CalibrationMethod.MinMax });

        // TensorRT removes a Concat only when its inputs and output share a scale; ONNX Runtime then needs no requantization.
        Assert.All(group, t => Assert.Equal(4f / 127f, result.ActivationScales[t], 6));
        Assert.Equal(1f / 127f, result.ActivationScales["input"], 6);
    }

    [Fact]
    public void Depthwise_convolutions_are_quantized_per_output_channel_like_any_other()
    {
        var g = new OnnxGraphs(channels: 4);
        var dw = g.Conv("depthwise", "input", 4, 4, group: 4);
        var output = g.Conv("pointwise", dw, 4, 2, kernel: 1);
        var model = g.Model(output);

        var result = QdqQuantizer.Rewrite(model, QdqQuantizer.Plan(model), new Dictionary<string, float> { ["input"] = 0.01f, [dw] = 0.02f });
        var dq = result.Model.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Output[0].StartsWith("depthwise.w", StringComparison.Ordinal));
        var scales = result.Model.Graph.Initializer.Single(i => i.Name == dq.Input[1]);
        Assert.Equal(4, scales.FloatData.Count);
        Assert.Equal(2, result.QuantizedConvolutions);
    }

    [Fact]
    public void Activations_whose_int8_form_would_lose_too_much_stay_float_and_say_why()
    {
        var g = new OnnxGraphs(channels: 2);
        var a = g.Conv("a", "input", 2, 2);
        var output = g.Conv("b", a, 2, 2);
        var model = g.Model(output);
        var plan = QdqQuantizer.Plan(model);
        var stats = Histograms(plan, new() { ["input"] = 1f, [a] = 1f });
        // A heavy tail: 0.05 % of the values, far out, carry most of the energy; the 99.9th percentile
        // clips them all, and the clipping error is about as large as the signal.
        var wild = new ActivationHistogram();
        wild.Add(Enumerable.Repeat(0.5f, 100_000).Concat(Enumerable.Repeat(1000f, 50)).ToArray());
        stats[a] = wild;

        var result = QdqQuantizer.Quantize(model, plan, stats, new QuantizationOptions { Method = CalibrationMethod.Percentile, Percentile = 99.9 });

        Assert.DoesNotContain(a, result.ActivationScales.Keys);
        Assert.Contains(result.KeptFloat, k => k.Name == a && k.Reason.Contains("ill-conditioned", StringComparison.Ordinal));
    }

    [Fact]
    public void Models_it_cannot_quantize_are_refused_with_the_reason()
    {
        var dynamic = new OnnxGraphs();
        dynamic.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        var dynamicModel = dynamic.Model(dynamic.Conv("c", "input", 3, 2));
        Assert.Contains("static 4-D shape", Assert.Throws<QuantizationException>(() => QdqQuantizer.Plan(dynamicModel)).Message, StringComparison.Ordinal);

        var noConv = new OnnxGraphs();
        var noConvModel = noConv.Model(noConv.Op("Relu", "r", "input"));
        Assert.Contains("no Conv", Assert.Throws<QuantizationException>(() => QdqQuantizer.Plan(noConvModel)).Message, StringComparison.Ordinal);

        var bytes = new OnnxGraphs(elementType: (int)TensorProto.Types.DataType.Uint8);
        var bytesModel = bytes.Model(bytes.Conv("c", "input", 3, 2));
        Assert.Contains("Uint8", Assert.Throws<QuantizationException>(() => QdqQuantizer.Plan(bytesModel)).Message, StringComparison.Ordinal);

        var old = new OnnxGraphs();
        var oldModel = old.Model(old.Conv("c", "input", 3, 2), opset: 11);
        Assert.Contains("opset 11", Assert.Throws<QuantizationException>(() => QdqQuantizer.Plan(oldModel)).Message, StringComparison.Ordinal);

        var once = new OnnxGraphs();
        var onceModel = once.Model(once.Conv("c", "input", 3, 2));
        var quantized = QdqQuantizer.Rewrite(onceModel, QdqQuantizer.Plan(onceModel), new Dictionary<string, float> { ["input"] = 0.1f }).Model;
        Assert.Contains("already quantized", Assert.Throws<QuantizationException>(() => QdqQuantizer.Plan(quantized)).Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_uint8_form_for_x86_computes_the_same_numbers_as_the_int8_form()
    {
        // uint8 × int8 is exact only with VNNI; elsewhere its vpmaddubsw saturates and the appliance loads
        // uint8 weights instead (the next test).
        Skip.If(
            System.Runtime.Intrinsics.X86.X86Base.IsSupported && !EdgeSeg.Pipeline.Inference.OnnxSegmenter.CpuHasVnni.Value,
            "this x86 CPU has no VNNI: ONNX Runtime's uint8 x int8 kernels saturate here, so the appliance runs uint8 weights (tested below)");
        var (_, int8, x) = MinMaxInt8ResidualBlock();
        var uint8 = int8.Clone();

        Assert.True(ActivationLayout.HasInt8Activations(int8));
        Assert.Equal(4, ActivationLayout.ToUint8(uint8));
        Assert.False(ActivationLayout.HasInt8Activations(uint8));

        Assert.Equal(RunModel(int8, x, 3, 8, 16), RunModel(uint8, x, 3, 8, 16), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void Uint8_weights_under_uint8_activations_compute_the_same_numbers_as_the_int8_form_on_every_x86()
    {
        // Unlike uint8 x int8, which saturates on x86 without VNNI, this form is exact everywhere.
        var (_, int8, x) = MinMaxInt8ResidualBlock();
        var both = int8.Clone();
        Assert.Equal(4, ActivationLayout.ToUint8(both));
        Assert.True(ActivationLayout.WeightsToUint8(both) > 0);
        Assert.DoesNotContain(both.Graph.Initializer, i => i.DataType == (int)TensorProto.Types.DataType.Int8 && i.Dims.Count > 0);

        Assert.Equal(RunModel(int8, x, 3, 8, 16), RunModel(both, x, 3, 8, 16), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void A_model_quantized_elsewhere_with_uint8_activations_gets_uint8_weights_only_without_vnni()
    {
        // ONNX Runtime's own quantizer writes uint8 activations and int8 weights: the form that saturates on
        // x86 without VNNI. Made here from the int8 form; the rewrite must leave its numbers as they are.
        var (model, int8, x) = MinMaxInt8ResidualBlock();
        var external = int8.Clone();
        ActivationLayout.ToUint8(external);
        Assert.True(ActivationLayout.HasOnlyUint8Activations(external));
        Assert.False(ActivationLayout.HasOnlyUint8Activations(int8));

        var withVnni = external.Clone();
        Assert.False(ActivationLayout.PrepareForX86(withVnni, cpuHasVnni: true));
        Assert.Contains(withVnni.Graph.Initializer, i => i.DataType == (int)TensorProto.Types.DataType.Int8 && i.Dims.Count > 0);

        var withoutVnni = external.Clone();
        Assert.True(ActivationLayout.PrepareForX86(withoutVnni, cpuHasVnni: false));
        Assert.DoesNotContain(withoutVnni.Graph.Initializer, i => i.DataType == (int)TensorProto.Types.DataType.Int8 && i.Dims.Count > 0);
        Assert.Equal(RunModel(int8, x, 3, 8, 16), RunModel(withoutVnni, x, 3, 8, 16), new FloatTolerance(1e-5f));

        // The TensorRT form gets its activations converted on every x86, and a float model nothing.
        Assert.True(ActivationLayout.PrepareForX86(int8.Clone(), cpuHasVnni: true));
        Assert.False(ActivationLayout.PrepareForX86(model.Clone(), cpuHasVnni: false));
    }

    /// <summary>
    /// The residual block, its int8 QDQ form and an input, calibrated with minmax on the very input it runs:
    /// nothing saturates, where the activation forms could differ (a post-Relu tensor saturates at its
    /// threshold in int8, at twice it in uint8).
    /// </summary>
    private static (ModelProto Model, ModelProto Int8, float[] Input) MinMaxInt8ResidualBlock()
    {
        var (model, _, _, _) = ResidualBlock();
        var plan = QdqQuantizer.Plan(model);
        var x = Input(3, 8, 16);
        var int8 = QdqQuantizer.Quantize(model, plan, Observed(model, plan, x, 3, 8, 16), new QuantizationOptions { Method = CalibrationMethod.MinMax }).Model;
        return (model, int8, x);
    }

    [Fact]
    public void Kernel_rows_that_only_read_padding_are_cropped_without_changing_any_output()
    {
        // A 3x3 convolution of rate 5 on a 4-row map: its upper and lower rows never touch the input.
        var g = new OnnxGraphs(channels: 2, height: 4, width: 16);
        var model = g.Model(g.Conv("atrous", "input", 2, 3, dilation: 5));
        var cropped = model.Clone();

        var changes = PaddingTapCropper.Crop(cropped, new Dictionary<string, long[]> { ["input"] = [1, 2, 4, 16] });

        Assert.Single(changes);
        var weight = cropped.Graph.Initializer.Single(i => i.Name == "atrous.w");
        Assert.Equal(new long[] { 3, 2, 1, 3 }, weight.Dims);
        var x = Input(2, 4, 16);
        Assert.Equal(RunModel(model, x, 2, 4, 16), RunModel(cropped, x, 2, 4, 16), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void The_histogram_keeps_its_counts_when_its_range_grows()
    {
        var h = new ActivationHistogram();
        h.Add([0.5f, -0.25f, 1f]);
        h.Add([-8f]);

        Assert.Equal(4, h.Count);
        Assert.Equal(8, h.AbsMax);
        Assert.True(h.Range > 8);
        Assert.Equal(4, h.Counts.ToArray().Sum());
        Assert.Equal(8, h.Threshold(CalibrationMethod.MinMax));
    }

    [Fact]
    public void Percentile_and_entropy_clip_a_rare_outlier_that_minmax_keeps()
    {
        var h = new ActivationHistogram();
        var values = Enumerable.Range(0, 20_000).Select(i => (float)(i % 1000) / 1000f).Append(100f).ToArray();
        h.Add(values);

        Assert.Equal(100, h.Threshold(CalibrationMethod.MinMax));
        Assert.InRange(h.Threshold(CalibrationMethod.Percentile, 99.9), 0.9, 1.2);
        Assert.InRange(h.Threshold(CalibrationMethod.Entropy), 0.5, 10);
    }

    /// <summary>input → conv_a → relu → conv_b → add(conv_b, relu) → conv_c (logits): the model and its relu, conv_b and add tensors.</summary>
    private static (ModelProto Model, string Relu, string ConvB, string Sum) ResidualBlock()
    {
        var g = new OnnxGraphs(channels: 3);
        var r = g.Op("Relu", "relu", g.Conv("conv_a", "input", 3, 4));
        var b = g.Conv("conv_b", r, 4, 4);
        var sum = g.Op("Add", "add", b, r);
        return (g.Model(g.Conv("conv_c", sum, 4, 2, kernel: 1)), r, b, sum);
    }

    private static Dictionary<string, ActivationHistogram> Histograms(QuantizationPlan plan, Dictionary<string, float> maxima)
    {
        var result = new Dictionary<string, ActivationHistogram>();
        foreach (var t in plan.Activations)
        {
            var h = new ActivationHistogram();
            var m = maxima[t];
            h.Add(Enumerable.Range(0, 1000).Select(i => m * ((i / 999f * 2) - 1)).ToArray());
            result[t] = h;
        }

        return result;
    }

    /// <summary>Histograms of the planned activations as the float model computes them on <paramref name="x"/>.</summary>
    private static Dictionary<string, ActivationHistogram> Observed(ModelProto model, QuantizationPlan plan, float[] x, int c, int h, int w)
    {
        var probe = model.Clone();
        foreach (var t in plan.Activations.Where(t => t != "input"))
        {
            probe.Graph.Output.Add(new ValueInfoProto { Name = t, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        }

        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(probe));
        using var input = OrtValue.CreateTensorValueFromMemory(x, [1, c, h, w]);
        var names = plan.Activations.Where(t => t != "input").ToList();
        using var results = session.Run(new RunOptions(), ["input"], [input], names);
        var histograms = new Dictionary<string, ActivationHistogram> { ["input"] = new() };
        histograms["input"].Add(x);
        for (var i = 0; i < names.Count; i++)
        {
            histograms[names[i]] = new ActivationHistogram();
            histograms[names[i]].Add(results[i].GetTensorDataAsSpan<float>());
        }

        return histograms;
    }

    private static float[] Input(int c, int h, int w)
    {
        var random = new Random(3);
        return Enumerable.Range(0, c * h * w).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    private static void AssertRunsClose(ModelProto reference, ModelProto quantized, int c, int h, int w, float tolerance)
    {
        var x = Input(c, h, w);
        var a = RunModel(reference, x, c, h, w);
        var b = RunModel(quantized, x, c, h, w);
        Assert.Equal(a.Length, b.Length);
        var scale = a.Max(Math.Abs);
        var error = a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) / scale;
        Assert.True(error < tolerance, $"quantized output differs from the float one by {error:P1} of its range");
    }

    private static float[] RunModel(ModelProto model, float[] x, int c, int h, int w)
    {
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        using var input = OrtValue.CreateTensorValueFromMemory(x, [1, c, h, w]);
        using var results = session.Run(new RunOptions(), [session.InputNames[0]], [input], [session.OutputNames[0]]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

public class CalibratorTests
{
    private sealed class EmptySource : EdgeSeg.Pipeline.Capture.IFrameSource
    {
        public string Description => "an empty test source";

        public double? NominalFps => null;

        public bool IsLive => false;

        public bool Read(EdgeSeg.Pipeline.Frames.VideoFrame target) => false;

        public void Dispose()
        {
        }
    }

    [Fact]
    public void A_calibration_source_that_yields_no_frames_is_refused_by_name()
    {
        var g = new OnnxGraphs(channels: 3, height: 32, width: 64);
        var model = g.Model(g.Conv("c", "input", 3, 3, kernel: 1));
        var path = Path.Combine(TestFiles.NewTempDirectory(), "m.onnx");
        OnnxGraphs.Save(model, path);
        File.WriteAllText(Path.ChangeExtension(path, ".json"), """{ "Classes": ["a", "b", "c"] }""");
        using var segmenter = EdgeSeg.Pipeline.Inference.OnnxSegmenter.Load(path, new EdgeSeg.Pipeline.Inference.InferenceOptions());
        var plan = QdqQuantizer.Plan(model);
        using var source = new EmptySource();

        var e = Assert.Throws<QuantizationException>(() => Calibrator.Collect(model, segmenter.Model, plan.Activations, source, 10));
        Assert.Contains("an empty test source yielded no frames", e.Message, StringComparison.Ordinal);
    }
}
