using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Tests.Inference;

public sealed class OnnxSegmenterTests
{
    private static readonly InferenceOptions Cpu = new() { IntraOpThreads = 1 };

    /// <summary>A BGR frame whose left half is pure red and right half pure blue.</summary>
    private static VideoFrame RedBlueFrame(int width, int height)
    {
        var frame = new VideoFrame();
        frame.EnsureSize(width, height);
        var px = frame.Pixels;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var o = ((y * width) + x) * 3;
                var red = x < width / 2;
                px[o] = red ? (byte)0 : (byte)255;     // B
                px[o + 1] = 0;                          // G
                px[o + 2] = red ? (byte)255 : (byte)0; // R
            }
        }

        return frame;
    }

    [Theory]
    [InlineData("colour_logits.onnx", 64, 32)]
    [InlineData("colour_logits.onnx", 640, 320)]
    [InlineData("colour_labels.onnx", 64, 32)]
    [InlineData("colour_labels.onnx", 200, 100)]
    public void A_red_and_blue_frame_is_labelled_red_on_the_left_and_blue_on_the_right(string model, int width, int height)
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture(model), Cpu);
        var labels = new LabelMap();
        segmenter.Segment(RedBlueFrame(width, height), labels);

        Assert.Equal(64, labels.Width);
        Assert.Equal(32, labels.Height);
        var names = segmenter.Model.Labels.ClassNames;
        Assert.Equal("red", names[labels.Labels[(5 * 64) + 3]]);
        Assert.Equal("blue", names[labels.Labels[(20 * 64) + 60]]);

        var shares = new double[3];
        ClassAreaCounter.Shares(labels.Labels, new long[3], shares);
        Assert.Equal(0.5, shares[0], 3);
        Assert.Equal(0.0, shares[1], 3);
        Assert.Equal(0.5, shares[2], 3);
    }

    [Fact]
    public void The_manifest_and_the_model_metadata_are_joined_into_one_description()
    {
        using var logits = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), Cpu);
        Assert.Equal("colour-logits", logits.Model.Name);
        Assert.Equal(TensorLayout.NCHW, logits.Model.Layout);
        Assert.Equal(InputElementType.Float32, logits.Model.ElementType);
        Assert.Equal(OutputKind.Logits, logits.Model.OutputKind);
        Assert.Equal(ExecutionProvider.CPU, logits.Provider);

        using var labels = OnnxSegmenter.Load(TestFiles.Fixture("colour_labels.onnx"), Cpu);
        Assert.Equal("image", labels.Model.InputName);
        Assert.Equal(TensorLayout.NHWC, labels.Model.Layout);
        Assert.Equal(InputElementType.UInt8, labels.Model.ElementType);
        Assert.Equal(OutputKind.Labels, labels.Model.OutputKind);
        Assert.Equal((64, 32), (labels.Model.Width, labels.Model.Height));
    }

    [Fact]
    public void A_segmentation_views_the_scores_on_the_output_grid_and_the_frame_as_the_model_saw_it()
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), Cpu);
        var model = segmenter.Model;
        var frame = RedBlueFrame(model.Width * 3, model.Height * 3);
        var segmentation = segmenter.Infer(frame);

        Assert.Equal((model.Labels.Count, model.OutputHeight, model.OutputWidth), (segmentation.Scores.Classes, segmentation.Scores.Height, segmentation.Scores.Width));
        Assert.Equal(model.Labels.Count * model.OutputHeight * model.OutputWidth, segmentation.Scores.Scores.Length);
        Assert.Equal((model.Width, model.Height), (segmentation.Input.Width, segmentation.Input.Height));
        // The input image is the frame resized: red (BGR 0,0,255) at the far left, blue at the far right.
        Assert.Equal([0, 0, 255], segmentation.Input.Pixels[..3].ToArray());
        Assert.Equal([255, 0, 0], segmentation.Input.Pixels[^3..].ToArray());

        var labels = new LabelMap();
        segmentation.Decode(labels);
        Assert.Equal((model.OutputWidth, model.OutputHeight), (labels.Width, labels.Height));
    }

    [Fact]
    public void A_segmentation_decoded_after_a_later_run_is_refused_instead_of_decoding_the_wrong_frame()
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_labels.onnx"), Cpu);
        var frame = RedBlueFrame(64, 32);
        var first = segmenter.Infer(frame);
        Assert.True(first.Scores.IsEmpty); // a model that outputs labels has no scores to refine
        _ = segmenter.Infer(frame);
        var labels = new LabelMap();
        try
        {
            first.Decode(labels);
            Assert.Fail("a stale segmentation was decoded");
        }
        catch (InvalidOperationException e)
        {
            Assert.Contains("later frame", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_unavailable_provider_is_passed_over_and_the_chain_says_why()
    {
        using var segmenter = OnnxSegmenter.Load(
            TestFiles.Fixture("colour_logits.onnx"),
            new InferenceOptions { Providers = [ExecutionProvider.TensorRT, ExecutionProvider.CUDA, ExecutionProvider.CPU] });

        Assert.Equal(ExecutionProvider.CPU, segmenter.Provider);
        Assert.Equal(3, segmenter.ProviderAttempts.Count);
        Assert.StartsWith("TensorRT: unavailable", segmenter.ProviderAttempts[0], StringComparison.Ordinal);
        Assert.StartsWith("CUDA: unavailable", segmenter.ProviderAttempts[1], StringComparison.Ordinal);
        Assert.Equal("CPU: selected", segmenter.ProviderAttempts[2]);
    }

    [Fact]
    public void A_truncated_model_fails_with_a_message_naming_the_file()
    {
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, "truncated.onnx");
        var bytes = File.ReadAllBytes(TestFiles.Fixture("colour_logits.onnx"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<ModelLoadException>(() => OnnxSegmenter.Load(path, Cpu));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a usable ONNX model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_fail_with_a_message_naming_the_file()
    {
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, "noise.onnx");
        var noise = new byte[4096];
        new Random(1).NextBytes(noise);
        File.WriteAllBytes(path, noise);

        var e = Assert.Throws<ModelLoadException>(() => OnnxSegmenter.Load(path, Cpu));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a usable ONNX model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_model_with_an_output_of_the_wrong_rank_is_rejected_with_its_shape()
    {
        var path = TestFiles.Fixture("wrong_rank.onnx");
        var e = Assert.Throws<ModelLoadException>(() => OnnxSegmenter.Load(path, Cpu));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("output 'out' has shape [1, 3] (rank 2)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.onnx", "does not exist")]
    [InlineData("empty.onnx", "is empty")]
    public void A_missing_or_empty_file_is_named(string name, string problem)
    {
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, name);
        if (name == "empty.onnx")
        {
            File.WriteAllBytes(path, []);
        }

        var e = Assert.Throws<ModelLoadException>(() => OnnxSegmenter.Load(path, Cpu));
        Assert.Equal($"model file '{path}': {problem}", e.Message);
    }

    [Fact]
    public void A_label_model_without_manifest_asks_for_its_label_set()
    {
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, "labels.onnx");
        File.Copy(TestFiles.Fixture("colour_labels.onnx"), path);

        var e = Assert.Throws<ModelLoadException>(() => OnnxSegmenter.Load(path, Cpu));
        Assert.Contains("set LabelSet or Classes in the manifest", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Inputt": { } }""", "Inputt")]
    [InlineData("""{ "Input": { "Layout": "NCWH" } }""", "Input.Layout")]
    [InlineData("""{ "Classes": ["a", "b"] }""", "2 class names for an output of 3 classes")]
    [InlineData("""{ "Input": { "Width": 128 } }""", "input 'input' is fixed at 64")]
    [InlineData("""{ "Input": { "Std": [1, 0, 1] } }""", "Input.Std values must be positive")]
    [InlineData("""{ "Output": { "Name": "logits" } }""", "manifest names output 'logits'")]
    public void A_bad_manifest_is_rejected_with_the_key_that_is_wrong(string manifest, string expected)
    {
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, "m.onnx");
        File.Copy(TestFiles.Fixture("colour_logits.onnx"), path);
        File.WriteAllText(Path.Combine(dir, "m.json"), manifest);

        var e = Assert.Throws<ModelLoadException>(() => OnnxSegmenter.Load(path, Cpu));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
