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
            "--model", TestFiles.Fixture("colour_logits.onnx"), "--source", "synthetic://street?seed=3&size=256x128&fps=10");

        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("(in-process broker)", r.Output, StringComparison.Ordinal);
        Assert.Contains("edgeseg/demo/status = online", r.Output, StringComparison.Ordinal);
        var seqs = StatsLine().Matches(r.Output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(seqs.Count >= 3, r.Output);
        Assert.Equal(Enumerable.Range(1, seqs.Count), seqs);
        Assert.Contains($"{seqs.Count} statistics windows received over MQTT.", r.Output, StringComparison.Ordinal);
    }

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
    public async Task Model_inspect_reports_the_shipped_models_output_stride_and_aspp_rates()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "model", "inspect", Path.Combine(RepositoryRoot.Path, "models", "deeplabv3_mnv3_street_512x256.onnx"));
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("output stride    16 (smallest feature map 32x16 for a 512x256 input)", r.Output, StringComparison.Ordinal);
        Assert.Contains("ASPP             on a 960-channel 32x16 map: 1x1 conv + 3x3 rate 6 + 3x3 rate 12 + 3x3 rate 18 + image pooling", r.Output, StringComparison.Ordinal);
        Assert.Contains("projection       concat → 1x1 conv to 256 channels", r.Output, StringComparison.Ordinal);
        Assert.Matches(@"compute      \d+\.\d\d GMAC", r.Output);
    }

    [Fact]
    public async Task Model_inspect_of_the_default_int8_model_sees_the_same_deeplab_through_its_qdq_nodes()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "model", "inspect");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("quantized (QDQ)", r.Output, StringComparison.Ordinal);
        Assert.Contains("output stride    16", r.Output, StringComparison.Ordinal);

        // At 32x16 the rate-18 branch's upper and lower kernel rows only read padding: the quantizer crops them.
        Assert.Contains("1x1 conv + 3x3 rate 6 + 3x3 rate 12 + 1x3 rate 18 + image pooling", r.Output, StringComparison.Ordinal);
    }
}
