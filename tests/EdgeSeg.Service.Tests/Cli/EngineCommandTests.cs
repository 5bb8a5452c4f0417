using System.Text.Json.Nodes;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Cli;

/// <summary><c>edgeseg engine build</c> on a machine without TensorRT (as CI's): it says so and exits 69.</summary>
public sealed class EngineCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static string Config(JsonArray providers, JsonObject? tensorRt = null)
    {
        var dir = TestFiles.NewTempDirectory();
        var path = Path.Combine(dir, "edgeseg.json");
        var model = new JsonObject
        {
            ["Path"] = TestFiles.Fixture("colour_logits.onnx"),
            ["Providers"] = providers,
            ["EngineCacheDirectory"] = Path.Combine(dir, "trt"),
        };
        if (tensorRt is not null)
        {
            model["TensorRT"] = tensorRt;
        }

        File.WriteAllText(path, new JsonObject
        {
            ["DeviceId"] = "box-1",
            ["Model"] = model,
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "north", ["Source"] = "synthetic://street" }),
            ["Mqtt"] = new JsonObject { ["SpoolPath"] = Path.Combine(dir, "spool.db") },
        }.ToJsonString());
        return path;
    }

    [Fact]
    public async Task Without_tensorrt_on_the_machine_it_reports_the_fallback_and_exits_69()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "engine", "build", "--config", Config(["TensorRT", "CPU"], new JsonObject { ["DlaCore"] = 0, ["WorkspaceMiB"] = 512 }));

        Assert.Equal(69, r.ExitCode);
        Assert.Contains("workspace 512 MiB", r.Output, StringComparison.Ordinal);
        Assert.Contains("DLA core 0", r.Output, StringComparison.Ordinal);
        Assert.Contains("TensorRT: unavailable", r.Output, StringComparison.Ordinal);
        Assert.Contains("TensorRT could not run the model here", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_tensorrt_configured_there_is_nothing_to_build()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "engine", "build", "--config", Config(["CPU"]));

        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("no engine to build", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_tensorrt_settings_are_refused_with_exit_78_naming_each()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "engine", "build", "--config",
            Config(["TensorRT", "CPU"], new JsonObject { ["WorkspaceMiB"] = 1, ["BuilderOptimizationLevel"] = 9, ["DlaCore"] = -2 }));

        Assert.Equal(78, r.ExitCode);
        Assert.Contains("Model.TensorRT.WorkspaceMiB: must be 16..65536, got 1", r.Error, StringComparison.Ordinal);
        Assert.Contains("Model.TensorRT.BuilderOptimizationLevel: must be 0..5, got 9", r.Error, StringComparison.Ordinal);
        Assert.Contains("Model.TensorRT.DlaCore: must be -1 (GPU) or a DLA core 0..7, got -2", r.Error, StringComparison.Ordinal);
    }
}
