using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Cli;

public sealed partial class CommandLineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [GeneratedRegex(@"^\d\d:\d\d:\d\d street #(\d+)", RegexOptions.Multiline)]
    private static partial Regex StatsLine();

    [Fact]
    public async Task The_demo_prints_windows_received_over_mqtt_and_exits_0()
    {
        var port = TestFiles.FreePort();
        var r = await EdgesegProcess.RunAsync(
            Timeout, "demo", "--seconds", "8", "--window", "1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--model", TestFiles.Fixture("colour_logits.onnx"), "--source", "synthetic://street?seed=3&size=256x128&fps=10", "--threads", "1");

        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("(in-process broker)", r.Output, StringComparison.Ordinal);
        Assert.Contains("edgeseg/demo/status = online", r.Output, StringComparison.Ordinal);
        var seqs = StatsLine().Matches(r.Output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(seqs.Count >= 3, r.Output);
        Assert.Equal(Enumerable.Range(1, seqs.Count), seqs);
        Assert.Contains($"{seqs.Count} statistics windows received over MQTT.", r.Output, StringComparison.Ordinal);
        var summary = DemoSummary().Match(r.Output);
        Assert.True(summary.Success, r.Output);
        Assert.Equal((seqs.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), summary.Groups[3].Value);
        Assert.True(double.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, r.Output);
    }

    [GeneratedRegex(@"^Segmented (\d+\.\d) fps on average, inference p50 (\d+) ms \(median of (\d+) windows after the first\)\.", RegexOptions.Multiline)]
    private static partial Regex DemoSummary();

    [Fact]
    public async Task Run_with_an_invalid_configuration_exits_78_and_names_every_field()
    {
        var dir = TestFiles.NewTempDirectory();
        var config = Path.Combine(dir, "edgeseg.json");
        File.WriteAllText(config, new JsonObject
        {
            ["DeviceId"] = "box 1",
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "north", ["Source"] = "foo://x", ["Fps"] = 3 }),
            ["Mqtt"] = new JsonObject { ["Port"] = 0 },
        }.ToJsonString());

        var r = await EdgesegProcess.RunAsync(Timeout, "run", "--config", config);
        Assert.Equal(78, r.ExitCode);
        Assert.Contains("Cameras[0].Fps: unknown key", r.Error, StringComparison.Ordinal);

        File.WriteAllText(config, new JsonObject
        {
            ["DeviceId"] = "box 1",
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "north", ["Source"] = "foo://x" }),
            ["Mqtt"] = new JsonObject { ["Port"] = 0 },
        }.ToJsonString());
        r = await EdgesegProcess.RunAsync(Timeout, "run", "--config", config);
        Assert.Equal(78, r.ExitCode);
        Assert.Contains("DeviceId: 'box 1' must be", r.Error, StringComparison.Ordinal);
        Assert.Contains("Cameras[0].Source: unsupported scheme 'foo'", r.Error, StringComparison.Ordinal);
        Assert.Contains("Mqtt.Port: must be 1..65535, got 0", r.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("demo")]
    [InlineData("bench")]
    [InlineData("eval")]
    [InlineData("snapshot")]
    public async Task Every_verb_explains_itself_with_help(string verb)
    {
        var r = await EdgesegProcess.RunAsync(Timeout, verb, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Output, StringComparison.Ordinal);
        Assert.Contains($"edgeseg {verb}", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_prints_raw_and_pipeline_throughput_and_their_ratio()
    {
        var r = await EdgesegProcess.RunAsync(
            Timeout, "bench", "--frames", "5", "--model", TestFiles.Fixture("colour_logits.onnx"), "--source", "synthetic://street?size=64x32");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Matches(@"raw inference \(Run\) +\d+\.\d\d", r.Output);
        Assert.Matches(@"whole pipeline +\d+\.\d\d", r.Output);
        Assert.Matches(@"ratio pipeline/raw +\d\.\d\d\d", r.Output);
        Assert.Matches(@"managed allocation +\d+ bytes per frame", r.Output);
    }

    [Fact]
    public async Task Snapshot_writes_a_png_of_the_frame_with_its_mask()
    {
        var output = Path.Combine(TestFiles.NewTempDirectory(), "snap.png");
        var r = await EdgesegProcess.RunAsync(
            Timeout, "snapshot", "--model", TestFiles.Fixture("colour_logits.onnx"), "--source", "synthetic://street?size=320x160", "--out", output);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        using var image = OpenCvSharp.Cv2.ImRead(output);
        Assert.Equal((320, 160), (image.Width, image.Height));
    }

    [Fact]
    public async Task Model_inspect_reports_the_output_stride_aspp_and_decoder_that_the_model_file_and_its_manifest_give()
    {
        var path = Path.Combine(RepositoryRoot.Path, "models", "deeplabv3_mnv3_street_512x256.onnx");
        var r = await EdgesegProcess.RunAsync(Timeout, "model", "inspect", path);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);

        var expected = ModelFile.Read(path);
        var map = $"{expected.Width / expected.OutputStride}x{expected.Height / expected.OutputStride}";
        Assert.Contains($"output stride    {expected.OutputStride} (smallest feature map {map} for a {expected.Width}x{expected.Height} input)", r.Output, StringComparison.Ordinal);
        var branches = string.Join(" + ", expected.AsppRates.Select(rate => $"3x3 rate {rate}"));
        Assert.Contains($"ASPP             on a {expected.AsppInputChannels}-channel {map} map: 1x1 conv + {branches} + image pooling ({expected.AsppBranchChannels} channels each)", r.Output, StringComparison.Ordinal);
        Assert.Contains($"projection       concat → 1x1 conv to {expected.ProjectionChannels} channels", r.Output, StringComparison.Ordinal);
        Assert.Contains($"decoder          DeepLabV3+ at stride {expected.DecoderStride}: ", r.Output, StringComparison.Ordinal);
        Assert.Contains($"stride-{expected.DecoderStride} features → 1x1 conv to {expected.DecoderSkipChannels} channels", r.Output, StringComparison.Ordinal);
        Assert.Contains($"3x3 convs of {expected.DecoderChannels} channels", r.Output, StringComparison.Ordinal);
        Assert.Contains(
            expected.JoinStride == 1
                ? "logits added to the encoder's at input size (residual branch)"
                : $"logits added to the encoder's at stride {expected.JoinStride} (residual branch), the sum upsampled ×{expected.JoinStride}",
            r.Output, StringComparison.Ordinal);
        Assert.Matches(@"compute      \d+\.\d\d GMAC", r.Output);
    }

    [Fact]
    public async Task Model_inspect_of_the_default_int8_model_sees_the_same_deeplab_through_its_qdq_nodes()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "model", "inspect");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("quantized (QDQ)", r.Output, StringComparison.Ordinal);

        // The report names the model it read; what it must find is what that model's manifest says.
        var path = Regex.Match(r.Output, @"^model +(\S+\.onnx)$", RegexOptions.Multiline).Groups[1].Value;
        var manifest = ModelFile.Manifest(path);
        var stride = manifest["OutputStride"]!.GetValue<int>();
        var (width, height) = (manifest["Input"]!["Width"]!.GetValue<int>(), manifest["Input"]!["Height"]!.GetValue<int>());
        Assert.Contains($"output stride    {stride} (smallest feature map {width / stride}x{height / stride}", r.Output, StringComparison.Ordinal);

        // A 3x3 kernel dilated by a rate of at least the map's height (width) has upper and lower rows
        // (left and right columns) that only read padding: the quantizer crops them.
        var kernels = manifest["AsppRates"]!.AsArray().Select(n => n!.GetValue<int>())
            .Select(rate => $"{(rate >= height / stride ? 1 : 3)}x{(rate >= width / stride ? 1 : 3)} rate {rate}");
        Assert.Contains($"1x1 conv + {string.Join(" + ", kernels)} + image pooling", r.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// What a DeepLab model file says of itself, read without the project's inspector: the stride, rates,
    /// input size and decoder of the manifest beside it, and the channel counts of its convolution weights.
    /// </summary>
    private sealed record ModelFile(
        int Width, int Height, int OutputStride, IReadOnlyList<int> AsppRates, int AsppInputChannels, int AsppBranchChannels,
        int ProjectionChannels, int DecoderStride, int DecoderSkipChannels, int DecoderChannels, int JoinStride)
    {
        public static JsonNode Manifest(string onnxPath) => JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(onnxPath, ".json")))!;

        /// <summary>Reads a float model (its weights are initializers, not behind quantization nodes).</summary>
        public static ModelFile Read(string onnxPath)
        {
            var manifest = Manifest(onnxPath);
            var rates = manifest["AsppRates"]!.AsArray().Select(n => n!.GetValue<int>()).ToList();
            var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnxPath)).Graph;
            var weights = graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
            var convs = graph.Node.Where(n => n.OpType == "Conv").Select(n => new
            {
                Dilation = n.Attribute.FirstOrDefault(a => a.Name == "dilations")?.Ints.Max() ?? 1,
                Weight = weights[n.Input[1]], // out channels, in channels per group, kernel height, kernel width
            }).ToList();

            // The ASPP's atrous branches are the convolutions dilated at the manifest's rates, one per rate.
            var atrous = convs.Where(c => rates.Contains((int)c.Dilation)).ToList();
            Assert.Equal(rates.Order(), atrous.Select(c => (int)c.Dilation).Order());
            var branchChannels = (int)atrous.Select(c => c.Weight[0]).Distinct().Single();

            // The projection takes the concatenation of every branch: the 1x1, the atrous ones and the pooling.
            var concatenated = (rates.Count + 2) * branchChannels;
            var projection = convs.Single(c => c.Weight[1] == concatenated && c.Weight[2] == 1 && c.Weight[3] == 1);
            var decoder = manifest["Decoder"]!;

            // Where the decoder's logits meet the encoder's: an Add of two resizes at the output (input
            // size), or one resize of an Add taken on the decoder's grid.
            var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
            var last = producers[graph.Output[0].Name];
            var joinStride = last.OpType == "Add" ? 1
                : last.OpType == "Resize" && producers[last.Input[0]].OpType == "Add" ? decoder["Stride"]!.GetValue<int>()
                : throw new InvalidOperationException($"{onnxPath}: the output comes from a {last.OpType}, neither join of a residual decoder");
            return new ModelFile(
                manifest["Input"]!["Width"]!.GetValue<int>(), manifest["Input"]!["Height"]!.GetValue<int>(), manifest["OutputStride"]!.GetValue<int>(),
                rates, (int)atrous.Select(c => c.Weight[1]).Distinct().Single(), branchChannels, (int)projection.Weight[0],
                decoder["Stride"]!.GetValue<int>(), decoder["SkipChannels"]!.GetValue<int>(), decoder["Channels"]!.GetValue<int>(), joinStride);
        }
    }
}
