using EdgeSeg.Pipeline.Inference;

namespace EdgeSeg.Pipeline.Tests.Inference;

public sealed class ModelInspectorTests
{
    private const int Height = 64, Width = 128, Classes = 3;

    /// <summary>
    /// A tiny DeepLabV3+-shaped model at 128x64: a stride-4 stem, a stride-16 stage, a coarse classifier, and a
    /// decoder (a 1x1 projection of the stride-4 features to 4 channels, joined to the stride-16 features
    /// upsampled ×4, one depthwise-separable 3x3 of 6 channels, a classifier) whose logits meet the encoder's
    /// at the input size (<paramref name="joinAtStride4"/> false) or on the decoder's grid.
    /// </summary>
    private static string TinyDeepLabV3Plus(string dir, bool joinAtStride4)
    {
        var g = new OnnxGraphs(channels: 3, height: Height, width: Width);
        var low = g.Op("Relu", "stem.relu", g.Conv("stem", "input", 3, 8, stride: 4));
        var high = g.Op("Relu", "stage.relu", g.Conv("stage", low, 8, 8, stride: 4));
        var coarse = g.Conv("coarse", high, 8, Classes, kernel: 1);
        var skip = g.Op("Relu", "project.relu", g.Conv("project", low, 8, 4, kernel: 1));
        var joined = g.Op("Concat", "concat", g.Resize("up_high", high, 1, 8, Height / 4, Width / 4), skip);
        var dw = g.Op("Relu", "dw.relu", g.Conv("dw", joined, 12, 12, group: 12));
        var pw = g.Op("Relu", "pw.relu", g.Conv("pw", dw, 12, 6, kernel: 1));
        var detail = g.Conv("classifier", pw, 6, Classes, kernel: 1);
        var output = joinAtStride4
            ? g.Resize("up_out", g.Op("Add", "add", g.Resize("up_coarse", coarse, 1, Classes, Height / 4, Width / 4), detail), 1, Classes, Height, Width)
            : g.Op("Add", "add", g.Resize("up_coarse", coarse, 1, Classes, Height, Width), g.Resize("up_detail", detail, 1, Classes, Height, Width));
        var path = Path.Combine(dir, joinAtStride4 ? "tiny_stride4.onnx" : "tiny_full.onnx");
        OnnxGraphs.Save(g.Model(output), path);
        File.WriteAllText(Path.ChangeExtension(path, ".json"), """
            { "Name": "tiny", "Input": { "Layout": "NCHW", "ElementType": "Float32", "ColorOrder": "RGB", "Mean": [0, 0, 0], "Std": [1, 1, 1], "Scale": 255 },
              "Output": { "Kind": "Logits" }, "Classes": ["road", "car", "sky"] }
            """);
        return path;
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 4)]
    public void Finds_the_decoder_and_where_its_logits_join_the_encoders(bool joinAtStride4, int joinStride)
    {
        var dir = TestFiles.NewTempDirectory();
        using var segmenter = OnnxSegmenter.Load(TinyDeepLabV3Plus(dir, joinAtStride4), new InferenceOptions { IntraOpThreads = 1 });

        var inspection = ModelInspector.Inspect(segmenter);

        Assert.Equal(16, inspection.OutputStride);
        var decoder = Assert.IsType<DecoderBlock>(inspection.Decoder);
        Assert.Equal(new DecoderBlock(Stride: 4, SkipInputChannels: 8, SkipChannels: 4, EncoderChannels: 8, Channels: 6, SeparableConvs: 1, Residual: true, JoinStride: joinStride), decoder);
    }

    [Fact]
    public void A_decoder_whose_logits_are_not_added_to_the_encoders_is_not_residual()
    {
        var g = new OnnxGraphs(channels: 3, height: Height, width: Width);
        var low = g.Op("Relu", "stem.relu", g.Conv("stem", "input", 3, 8, stride: 4));
        var high = g.Op("Relu", "stage.relu", g.Conv("stage", low, 8, 8, stride: 4));
        var skip = g.Op("Relu", "project.relu", g.Conv("project", low, 8, 4, kernel: 1));
        var joined = g.Op("Concat", "concat", g.Resize("up_high", high, 1, 8, Height / 4, Width / 4), skip);
        var detail = g.Conv("classifier", g.Op("Relu", "fuse.relu", g.Conv("fuse", joined, 12, 6)), 6, Classes, kernel: 1);
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, "tiny_plain.onnx");
        OnnxGraphs.Save(g.Model(g.Resize("up_out", detail, 1, Classes, Height, Width)), path);
        File.WriteAllText(Path.ChangeExtension(path, ".json"), """{ "Name": "tiny", "Input": { "Mean": [0, 0, 0], "Std": [1, 1, 1], "Scale": 255 }, "Classes": ["road", "car", "sky"] }""");
        using var segmenter = OnnxSegmenter.Load(path, new InferenceOptions { IntraOpThreads = 1 });

        var decoder = Assert.IsType<DecoderBlock>(ModelInspector.Inspect(segmenter).Decoder);

        Assert.False(decoder.Residual);
        Assert.Null(decoder.JoinStride);
    }
}
