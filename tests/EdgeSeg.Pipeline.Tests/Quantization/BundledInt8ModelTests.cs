using EdgeSeg.Pipeline.Inference;
using Onnx;

namespace EdgeSeg.Pipeline.Tests.Quantization;

/// <summary>The shipped INT8 model has the QDQ form TensorRT and ONNX Runtime both need.</summary>
public class BundledInt8ModelTests
{
    private static readonly string ModelPath = Path.Combine(RepositoryModels(), "deeplabv3_mnv3_street_512x256.int8.onnx");

    [Fact]
    public void Every_conv_reads_int8_weights_per_channel_and_int8_activations_with_zero_point_0_and_a_float_bias()
    {
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(ModelPath)).Graph;
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var inits = graph.Initializer.ToDictionary(i => i.Name);
        var convs = graph.Node.Where(n => n.OpType == "Conv").ToList();
        Assert.NotEmpty(convs);
        foreach (var conv in convs)
        {
            var weightDq = producers[conv.Input[1]];
            Assert.Equal("DequantizeLinear", weightDq.OpType);
            var w = inits[weightDq.Input[0]];
            Assert.Equal((int)TensorProto.Types.DataType.Int8, w.DataType);
            Assert.DoesNotContain((byte)0x80, w.RawData);                        // no −128
            Assert.Equal(w.Dims[0], inits[weightDq.Input[1]].Dims.Single());     // one scale per output channel
            Assert.Equal(0, weightDq.Attribute.Single(a => a.Name == "axis").I);
            Assert.All(inits[weightDq.Input[2]].RawData, b => Assert.Equal(0, b));

            var inputDq = producers[conv.Input[0]];
            Assert.Equal("DequantizeLinear", inputDq.OpType);
            var zp = inits[inputDq.Input[2]];
            Assert.Equal((int)TensorProto.Types.DataType.Int8, zp.DataType);
            Assert.Equal(0, zp.RawData.Single());
            Assert.Equal("QuantizeLinear", producers[inputDq.Input[0]].OpType);

            if (conv.Input.Count > 2)
            {
                Assert.False(producers.ContainsKey(conv.Input[2]), $"{conv.Name}: its bias is computed, not a float constant");
                Assert.Equal((int)TensorProto.Types.DataType.Float, inits[conv.Input[2]].DataType);
            }
        }
    }

    [Fact]
    public void Onnx_runtime_loads_and_runs_it_on_the_cpu()
    {
        using var segmenter = OnnxSegmenter.Load(ModelPath, new InferenceOptions());
        Assert.Equal(ExecutionProvider.CPU, segmenter.Provider);
        var frame = new Frames.VideoFrame();
        frame.EnsureSize(512, 256);
        var labels = new Frames.LabelMap();
        segmenter.Segment(frame, labels);
        Assert.Equal(512 * 256, labels.Length);
    }

    private static string RepositoryModels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeSeg.sln")))
            {
                return Path.Combine(dir.FullName, "models");
            }
        }

        throw new DirectoryNotFoundException("repository root (EdgeSeg.sln) not found above the test assembly");
    }
}
