using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Synthetic;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Configuration;

/// <summary>The checks of zones, groups and ground planes that need the model: its classes and input size.</summary>
public sealed class AreaConfigurationTests
{
    private readonly string _dir = TestFiles.NewTempDirectory();

    /// <summary>One synthetic camera on the colour model (classes red, green, blue; 64x32 input would do, it has its own size).</summary>
    private JsonObject Config(Action<JsonObject, JsonObject> change)
    {
        var camera = new JsonObject { ["Name"] = "street", ["Source"] = "synthetic://street?seed=7&size=512x256" };
        var config = new JsonObject
        {
            ["DeviceId"] = "box",
            ["Model"] = new JsonObject { ["Path"] = TestFiles.Fixture("colour_logits.onnx") },
            ["Cameras"] = new JsonArray(camera),
            ["Mqtt"] = new JsonObject { ["SpoolPath"] = "" },
        };
        change(config, camera);
        return config;
    }

    private string Write(JsonNode config)
    {
        var path = Path.Combine(_dir, "edgeseg.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static JsonObject Groups(params (string Name, string[] Classes)[] groups) =>
        new() { ["ClassGroups"] = new JsonObject(groups.Select(g => KeyValuePair.Create(g.Name, (JsonNode?)new JsonArray([.. g.Classes.Select(c => (JsonNode)c)])))) };

    private static JsonObject Zone(string cls) => new()
    {
        ["Name"] = "lane",
        ["Points"] = new JsonArray(new JsonArray(0, 0.5), new JsonArray(1, 0.5), new JsonArray(1, 1)),
        ["Occupancy"] = new JsonArray(new JsonObject { ["Name"] = "busy", ["Class"] = cls, ["Above"] = 0.5 }),
    };

    /// <summary>Calibration pairs from the synthetic street's own camera, with the given ground points.</summary>
    private static JsonArray Pairs(params (double X, double Y)[] ground)
    {
        using var street = SyntheticFrameSource.Open(new Uri("synthetic://street?seed=7&size=512x256"));
        return new JsonArray([.. ground.Select(g =>
        {
            var p = street.Ground.ToImage(g.X, g.Y, 512, 256);
            return (JsonNode)new JsonObject { ["Image"] = new JsonArray(p.X, p.Y), ["Ground"] = new JsonArray(g.X, g.Y) };
        })]);
    }

    public static TheoryData<string, Action<JsonObject, JsonObject>, string> ModelDependent => new()
    {
        { "group of an unknown class", (c, _) => c["Statistics"] = Groups(("warm", ["red", "orange"])), "Statistics.ClassGroups.warm: 'orange' is not a class of the model (it has red, green, blue)" },
        { "group named like a class", (c, _) => c["Statistics"] = Groups(("red", ["red", "green"])), "Statistics.ClassGroups.red: 'red' is a class of the model" },
        { "occupancy of an unknown class", (_, cam) => cam["Zones"] = new JsonArray(Zone("vehicle")), "Cameras[0].Zones[0].Occupancy[0].Class: 'vehicle' is neither a class of the model nor a class group" },
        { "ground class unknown", (_, cam) => cam["Ground"] = new JsonObject { ["FromSource"] = true, ["Classes"] = new JsonArray("road") }, "Cameras[0].Ground.Classes[0]: 'road' is neither a class of the model nor a class group" },
        { "collinear calibration", (_, cam) => cam["Ground"] = new JsonObject { ["Points"] = Pairs((-3, 25), (-1, 25), (1, 25), (3, 25)) }, "Cameras[0].Ground.Points: the image points are degenerate" },
        { "calibration that disagrees", (_, cam) => cam["Ground"] = new JsonObject { ["Points"] = Pairs((-3, 24), (3, 24), (-3, 45), (3, 45), (0, 30)), ["MaxReprojectionErrorPixels"] = 0.5 }.Also(g => g["Points"]![4]!["Ground"] = new JsonArray(2, 30)), "Cameras[0].Ground.Points: reprojection error" },
    };

    [Theory]
    [MemberData(nameof(ModelDependent))]
    public async Task Checks_that_need_the_model_name_the_path_and_exit_78(string what, Action<JsonObject, JsonObject> change, string expected)
    {
        var path = Write(Config(change));
        var loaded = ConfigurationLoader.Load(path, new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(loaded, TextWriter.Null)!;
        var error = new StringWriter();
        Assert.Null(AppStartup.Cameras(loaded, segmenter, error));
        Assert.True(error.ToString().Contains(expected, StringComparison.Ordinal), $"{what}: expected '{expected}' in: {error}");
        Assert.Equal(78, await RunCommand.RunAsync(path, CancellationToken.None));
    }

    [Fact]
    public void Every_problem_that_needs_the_model_is_listed_at_once()
    {
        var loaded = ConfigurationLoader.Load(Write(Config((c, cam) =>
        {
            c["Statistics"] = Groups(("warm", ["red", "orange"]));
            cam["Zones"] = new JsonArray(Zone("vehicle"));
        })), new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(loaded, TextWriter.Null)!;
        var e = Assert.Throws<ConfigurationException>(() => AreaConfiguration.Build(loaded.Options, segmenter.Model.Labels, 512, 256));
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void A_good_calibration_reports_its_reprojection_error_at_start()
    {
        var loaded = ConfigurationLoader.Load(Write(Config((_, cam) => cam["Ground"] = new JsonObject { ["Points"] = Pairs((-3, 24), (3, 24), (-3, 45), (3, 45), (0, 30)) })), new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(loaded, TextWriter.Null)!;
        var log = new StringWriter();
        var stages = AppStartup.Cameras(loaded, segmenter, TextWriter.Null, log);
        Assert.NotNull(stages);
        Assert.Matches(@"camera street: ground plane from 5 point pairs, reprojection error RMS [0-9.]+ px, max [0-9.]+ px at \d+x\d+ \(limit 3 px\)", log.ToString());
        Assert.NotNull(stages!.Definitions[0].Areas!.Layout.Ground);
    }

    [Fact]
    public void The_zones_command_prints_a_configuration_that_loads_with_lanes_groups_ground_and_a_queue_rule()
    {
        using var street = SyntheticFrameSource.Open(new Uri("synthetic://street?seed=7&size=1024x512&fps=15&queue=5-25"));
        var config = DatasetZonesCommand.Configuration(street, street.Description, 45);
        config["Model"] = new JsonObject { ["Path"] = BundledModel.DefaultPath };
        var loaded = ConfigurationLoader.Load(Write(JsonNode.Parse(DatasetZonesCommand.Format(config))!), new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(loaded, TextWriter.Null)!;
        using var stages = AppStartup.Cameras(loaded, segmenter, Console.Error)!;
        var layout = stages.Definitions[0].Areas!.Layout;
        Assert.Equal(street.LaneCentres.Count, layout.Zones.Count(z => z.Name.StartsWith("lane_", StringComparison.Ordinal)));
        Assert.Equal(["people", "vehicle"], layout.Groups.Select(g => g.Name).Order());
        Assert.NotNull(layout.Ground);
        var rule = Assert.Single(stages.Definitions[0].Areas!.Occupancy);
        Assert.Equal(layout.SeriesIndex("vehicle"), rule.Series);
    }
}

internal static class JsonNodeExtensions
{
    /// <summary>Applies <paramref name="change"/> to <paramref name="node"/> and returns it (for changes inside a table of cases).</summary>
    public static T Also<T>(this T node, Action<T> change)
        where T : JsonNode
    {
        change(node);
        return node;
    }
}
