using System.Text.Json.Nodes;
using EdgeSeg.Service.Tests.Infrastructure;
using Onnx;

namespace EdgeSeg.Service.Tests.Cli;

/// <summary><c>edgeseg quantize</c> on a small hand-built model (the bundled one takes minutes to calibrate).</summary>
public sealed class QuantizeCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>A tiny DeepLab-shaped model: conv + relu, a depthwise atrous conv, a residual add, a 3-class classifier.</summary>
    private static string TinyModel(string dir, string name = "tiny.onnx")
    {
        var g = new OnnxGraphs(channels: 3, height: 32, width: 64);
        var a = g.Op("Relu", "relu", g.Conv("stem", "input", 3, 8));
        var dw = g.Conv("depthwise", a, 8, 8, dilation: 2, group: 8);
        var sum = g.Op("Add", "add", dw, a);
        var model = g.Model(g.Conv("classifier", sum, 8, 3, kernel: 1));
        var path = Path.Combine(dir, name);
        OnnxGraphs.Save(model, path);
        File.WriteAllText(Path.ChangeExtension(path, ".json"), """{ "Name": "tiny", "Classes": ["road", "car", "sky"] }""");
        return path;
    }

    [Fact]
    public async Task Quantizes_a_model_on_synthetic_frames_and_writes_a_manifest_that_says_how()
    {
        var dir = TestFiles.NewTempDirectory();
        var model = TinyModel(dir);
        var r = await EdgesegProcess.RunAsync(Timeout, "quantize", "--model", model, "--calibration", "synthetic://street?seed=5&size=128x64", "--frames", "6", "--method", "minmax");

        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("calibrating  6/6 frames", r.Output, StringComparison.Ordinal);
        Assert.Contains("quantized    3 of 3 convolutions run on int8 inputs", r.Output, StringComparison.Ordinal);
        Assert.Contains("Conv classifier: at the end of the graph", r.Output, StringComparison.Ordinal);
        Assert.Contains("ONNX Runtime loads and runs it", r.Output, StringComparison.Ordinal);

        var output = Path.Combine(dir, "tiny.int8.onnx");
        var quantized = ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        Assert.Contains(quantized.Graph.Node, n => n.OpType == "QuantizeLinear");
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tiny.int8.json")))!;
        Assert.Equal("tiny_int8", (string?)manifest["Name"]);
        Assert.Equal("minmax", (string?)manifest["Quantization"]!["Method"]);
        Assert.Equal(6, (int?)manifest["Quantization"]!["Frames"]);
        Assert.StartsWith("synthetic://street?seed=5", (string?)manifest["Quantization"]!["Calibration"], StringComparison.Ordinal);
        Assert.Contains(manifest["Quantization"]!["KeptFloat"]!.AsArray(), k => (string?)k!["Name"] == "classifier");
    }

    [Fact]
    public async Task Refuses_an_already_quantized_model_with_exit_78()
    {
        var dir = TestFiles.NewTempDirectory();
        var model = TinyModel(dir);
        var first = await EdgesegProcess.RunAsync(Timeout, "quantize", "--model", model, "--calibration", "synthetic://street?seed=5&size=128x64", "--frames", "2");
        Assert.True(first.ExitCode == 0, first.Output + first.Error);

        var again = await EdgesegProcess.RunAsync(Timeout, "quantize", "--model", Path.Combine(dir, "tiny.int8.onnx"), "--calibration", "synthetic://street?seed=5&size=128x64");
        Assert.Equal(78, again.ExitCode);
        Assert.Contains("already quantized", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refuses_a_model_without_convolutions_with_exit_78()
    {
        var dir = TestFiles.NewTempDirectory();
        var g = new OnnxGraphs(channels: 3, height: 32, width: 64);
        var path = Path.Combine(dir, "noconv.onnx");
        OnnxGraphs.Save(g.Model(g.Op("Relu", "relu", "input")), path);

        var r = await EdgesegProcess.RunAsync(Timeout, "quantize", "--model", path, "--calibration", "synthetic://street?size=128x64");
        Assert.Equal(78, r.ExitCode);
        Assert.Contains("no Conv node", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refuses_a_calibration_folder_without_images_with_exit_64()
    {
        var dir = TestFiles.NewTempDirectory();
        var model = TinyModel(dir);
        var empty = Directory.CreateDirectory(Path.Combine(dir, "frames")).FullName;

        var r = await EdgesegProcess.RunAsync(Timeout, "quantize", "--model", model, "--calibration", empty);
        Assert.Equal(64, r.ExitCode);
        Assert.Contains("has no PNG, JPEG or BMP images", r.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "tiny.int8.onnx")));
    }
}
