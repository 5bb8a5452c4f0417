using System.Text.Json.Nodes;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Configuration;

public sealed class ConfigurationTests
{
    private readonly string _dir = TestFiles.NewTempDirectory();

    /// <summary>A valid configuration: the tiny colour model and a video file beside the config.</summary>
    private JsonObject ValidConfig()
    {
        File.WriteAllBytes(Path.Combine(_dir, "north.avi"), [1]);
        return new JsonObject
        {
            ["DeviceId"] = "box-01",
            ["Model"] = new JsonObject { ["Path"] = TestFiles.Fixture("colour_logits.onnx") },
            ["Cameras"] = new JsonArray(
                new JsonObject { ["Name"] = "north", ["Source"] = "file://north.avi?loop=true", ["MaxFps"] = 5 },
                new JsonObject { ["Name"] = "south", ["Source"] = "file://north.avi" }),
            ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = 1883, ["SpoolPath"] = Path.Combine(_dir, "spool.db") },
        };
    }

    private string Write(JsonNode config)
    {
        var path = Path.Combine(_dir, "edgeseg.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private IReadOnlyList<string> Errors(JsonNode config, IDictionary<string, string?>? env = null)
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Write(config), env ?? new Dictionary<string, string?>()));
        return e.Errors;
    }

    [Fact]
    public void A_valid_configuration_binds_every_key()
    {
        var loaded = ConfigurationLoader.Load(Write(ValidConfig()), new Dictionary<string, string?>());
        var o = loaded.Options;
        Assert.Equal("box-01", o.DeviceId);
        Assert.Equal(2, o.Cameras.Count);
        Assert.Equal(5, o.Cameras[0].MaxFps);
        Assert.Null(o.Cameras[1].MaxFps);
        Assert.Equal(TestFiles.Fixture("colour_logits.onnx"), loaded.ModelPath);
        Assert.Equal(5, o.Statistics.WindowSeconds);
    }

    [Fact]
    public void Environment_variables_override_the_file_with_double_underscores_for_nesting()
    {
        var loaded = ConfigurationLoader.Load(Write(ValidConfig()), new Dictionary<string, string?>
        {
            ["EDGESEG_Mqtt__Host"] = "broker.lan",
            ["EDGESEG_Cameras__0__MaxFps"] = "2.5",
            ["OTHER_Mqtt__Port"] = "1",
        });
        Assert.Equal("broker.lan", loaded.Options.Mqtt.Host);
        Assert.Equal(2.5, loaded.Options.Cameras[0].MaxFps);
        Assert.Equal(1883, loaded.Options.Mqtt.Port);
    }

    public static TheoryData<string, Action<JsonObject>, string> InvalidConfigurations => new()
    {
        { "missing model file", c => c["Model"]!["Path"] = "/nonexistent/model.onnx", "Model.Path: model file '/nonexistent/model.onnx' does not exist" },
        { "unknown top-level key", c => c["Camera"] = new JsonArray(), "Camera: unknown key" },
        { "unknown nested key", c => c["Cameras"]![0]!["Sourc"] = "x", "Cameras[0].Sourc: unknown key" },
        { "bad URI scheme", c => c["Cameras"]![1]!["Source"] = "foo://cam", "Cameras[1].Source: unsupported scheme 'foo'" },
        { "duplicate camera names", c => c["Cameras"]![1]!["Name"] = "North", "Cameras[1].Name: 'North' is already the name of Cameras[0]" },
        { "negative frame rate", c => c["Cameras"]![0]!["MaxFps"] = -1, "Cameras[0].MaxFps: must be above 0" },
        { "port out of range", c => c["Mqtt"]!["Port"] = 70000, "Mqtt.Port: must be 1..65535, got 70000" },
        { "port not a number", c => c["Mqtt"]!["Port"] = "abc", "Mqtt.Port: 'abc' is not a whole number" },
        { "empty device id", c => c["DeviceId"] = "", "DeviceId: required" },
        { "device id with a topic separator", c => c["DeviceId"] = "box/01", "DeviceId: 'box/01' must be 1..64 characters without '/'" },
        { "no cameras", c => c.Remove("Cameras"), "Cameras: at least one camera is required" },
        { "missing video file", c => c["Cameras"]![0]!["Source"] = "file:///videos/none.mp4", "Cameras[0].Source: video file '/videos/none.mp4' does not exist" },
        { "unknown provider", c => c["Model"]!["Providers"] = new JsonArray("Vulkan"), "Model.Providers[0]: 'Vulkan' is not one of TensorRT, CUDA, CPU" },
        { "zero window", c => c["Statistics"] = new JsonObject { ["WindowSeconds"] = 0 }, "Statistics.WindowSeconds: must be above 0" },
        { "unknown source parameter", c => c["Cameras"]![0]!["Source"] = "file://north.avi?lop=1", "Cameras[0].Source: unknown parameter 'lop'" },
        { "object where a value belongs", c => c["Mqtt"]!["Host"] = new JsonObject { ["Name"] = "x" }, "Mqtt.Host: expected a single value" },
        { "empty camera name", c => c["Cameras"]![0]!["Name"] = "", "Cameras[0].Name: required" },
        { "keep-alive too short", c => c["Mqtt"]!["KeepAliveSeconds"] = 1, "Mqtt.KeepAliveSeconds: must be 5..3600" },
        { "no CRF iterations", c => c["Cameras"]![0]!["Refinement"] = new JsonObject { ["Enabled"] = true, ["Iterations"] = 0 }, "Cameras[0].Refinement.Iterations: must be 1..50, got 0" },
        { "zero CRF colour sigma", c => c["Cameras"]![1]!["Refinement"] = new JsonObject { ["AppearanceColorSigma"] = 0 }, "Cameras[1].Refinement.AppearanceColorSigma: must be" },
        { "negative CRF budget", c => c["Cameras"]![0]!["Refinement"] = new JsonObject { ["BudgetMs"] = -5 }, "Cameras[0].Refinement.BudgetMs: must be above 0" },
        { "unknown CRF key", c => c["Cameras"]![0]!["Refinement"] = new JsonObject { ["Iteration"] = 5 }, "Cameras[0].Refinement.Iteration: unknown key" },
        { "zone of two points", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,1")), "Cameras[0].Zones[0].Points: a polygon needs at least 3 points, got 2" },
        { "zone point outside the image", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1.5,0 1,1")), "Cameras[0].Zones[0].Points: point 1 (1.5, 0) is outside the image" },
        { "self-intersecting zone", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,1 1,0 0,1")), "Cameras[0].Zones[0].Points: edges 0-1 and 2-3 cross" },
        { "zone point of one number", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1 1,1")), "Cameras[0].Zones[0].Points[1]: a point is [x, y], got 1 numbers" },
        { "two zones of one name", c => c["Cameras"]![1]!["Zones"] = Zones(Zone("a", "0,0 1,0 1,1"), Zone("a", "0,0 1,1 0,1")), "Cameras[1].Zones[1].Name: 'a' is already the name of another zone" },
        { "zone name with a slash", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a/b", "0,0 1,0 1,1")), "Cameras[0].Zones[0].Name: required, a topic level" },
        { "occupancy threshold above 1", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,0 1,1", new JsonObject { ["Name"] = "q", ["Class"] = "red", ["Above"] = 1.5 })), "Cameras[0].Zones[0].Occupancy[0].Above: a share above 0 and at most 1, got 1.5" },
        { "occupancy Below above Above", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,0 1,1", new JsonObject { ["Name"] = "q", ["Class"] = "red", ["Above"] = 0.5, ["Below"] = 0.7 })), "Cameras[0].Zones[0].Occupancy[0].Below: a share from 0 to Above (0.5), got 0.7" },
        { "negative occupancy duration", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,0 1,1", new JsonObject { ["Name"] = "q", ["Class"] = "red", ["Above"] = 0.5, ["MinSeconds"] = -1 })), "Cameras[0].Zones[0].Occupancy[0].MinSeconds: 0..86400 seconds, got -1" },
        { "occupancy without a class", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,0 1,1", new JsonObject { ["Name"] = "q", ["Above"] = 0.5 })), "Cameras[0].Zones[0].Occupancy[0].Class: required" },
        { "unknown occupancy key", c => c["Cameras"]![0]!["Zones"] = Zones(Zone("a", "0,0 1,0 1,1", new JsonObject { ["Name"] = "q", ["Class"] = "red", ["Abov"] = 0.5 })), "Cameras[0].Zones[0].Occupancy[0].Abov: unknown key" },
        { "empty class group", c => c["Statistics"] = new JsonObject { ["ClassGroups"] = new JsonObject { ["warm"] = new JsonArray() } }, "Statistics.ClassGroups.warm: a group needs at least one class" },
        { "class listed twice in a group", c => c["Statistics"] = new JsonObject { ["ClassGroups"] = new JsonObject { ["warm"] = new JsonArray("red", "red") } }, "Statistics.ClassGroups.warm: a class is listed twice" },
        { "class group that is not a list", c => c["Statistics"] = new JsonObject { ["ClassGroups"] = new JsonObject { ["warm"] = "red" } }, "Statistics.ClassGroups.warm: expected a list, got the value 'red'" },
        { "ground of three points", c => c["Cameras"]![0]!["Ground"] = Ground(3), "Cameras[0].Ground.Points: a homography needs at least 4 point pairs, got 3" },
        { "ground image point outside", c => c["Cameras"]![0]!["Ground"] = Ground(4, imageX: 2), "Cameras[0].Ground.Points[0].Image: relative coordinates are 0..1, got [2, 0.6]" },
        { "ground point of three numbers", c => c["Cameras"]![0]!["Ground"] = Ground(4, groundZ: true), "Cameras[0].Ground.Points[0].Ground: [x, y] in metres, got 3 numbers" },
        { "ground from a file source", c => c["Cameras"]![0]!["Ground"] = new JsonObject { ["FromSource"] = true }, "Cameras[0].Ground.FromSource: only synthetic:// sources know their own calibration" },
        { "zero ground distance", c => c["Cameras"]![0]!["Ground"] = new JsonObject { ["MaxDistanceMetres"] = 0 }, "Cameras[0].Ground.MaxDistanceMetres: above 0 and at most 100000, got 0" },
        { "ground classes without a plane", c => c["Cameras"]![0]!["Ground"] = new JsonObject { ["Classes"] = new JsonArray("red") }, "Cameras[0].Ground.Classes: needs Points or FromSource" },
        { "unknown HTTP key", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["Adress"] = "127.0.0.1" }, "Http.Adress: unknown key (known keys here: Enabled, Listen, Port, StreamMaxFps, StallSeconds)" },
        { "HTTP listen address with a port", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["Listen"] = "127.0.0.1:8080" }, "Http.Listen: '127.0.0.1:8080' is not an IP address" },
        { "HTTP listen on a host name", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["Listen"] = "localhost" }, "Http.Listen: 'localhost' is not an IP address" },
        { "HTTP port out of range", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["Port"] = 0 }, "Http.Port: must be 1..65535, got 0" },
        { "HTTP port not a number", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["Port"] = "http" }, "Http.Port: 'http' is not a whole number" },
        { "HTTP switch not a boolean", c => c["Http"] = new JsonObject { ["Enabled"] = "yes" }, "Http.Enabled: 'yes' is not true or false" },
        { "no MJPEG frame rate", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["StreamMaxFps"] = 0 }, "Http.StreamMaxFps: must be above 0 and at most 30" },
        { "health window too short", c => c["Http"] = new JsonObject { ["Enabled"] = true, ["StallSeconds"] = 0.5 }, "Http.StallSeconds: must be 1..86400 seconds, got 0.5" },
        {
            "health window shorter than the cameras' frame interval",
            c =>
            {
                c["Cameras"]![0]!["MaxFps"] = 0.1;
                c["Cameras"]![1]!["MaxFps"] = 0.2;
                c["Http"] = new JsonObject { ["Enabled"] = true, ["StallSeconds"] = 5 };
            },
            "Http.StallSeconds: 5 s is shorter than two frame intervals of the fastest camera (Cameras[1].MaxFps 0.2 -> 10 s)"
        },
    };

    private static JsonArray Zones(params JsonObject[] zones) => new([.. zones]);

    /// <summary>A zone of points written "x,y x,y …" (a point may have any count of numbers), with optional occupancy rules.</summary>
    private static JsonObject Zone(string name, string points, params JsonObject[] rules) => new()
    {
        ["Name"] = name,
        ["Points"] = new JsonArray([.. points.Split(' ').Select(p => (JsonNode)new JsonArray([.. p.Split(',').Select(v => (JsonNode)double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))]))]),
        ["Occupancy"] = new JsonArray(rules),
    };

    private static JsonObject Ground(int points, double imageX = 0.2, bool groundZ = false) => new()
    {
        ["Points"] = new JsonArray([.. Enumerable.Range(0, points).Select(i => (JsonNode)new JsonObject
        {
            ["Image"] = new JsonArray(i == 0 ? imageX : 0.2 + (0.15 * i), 0.6 + (0.08 * (i % 2))),
            ["Ground"] = groundZ ? new JsonArray(i, 10 + i, 0) : new JsonArray(i, 10 + (3 * (i % 2))),
        })]),
    };

    [Theory]
    [MemberData(nameof(InvalidConfigurations))]
    public void An_invalid_configuration_names_the_field(string what, Action<JsonObject> breakIt, string expected)
    {
        var config = ValidConfig();
        breakIt(config);
        var errors = Errors(config);
        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{what}: expected '{expected}' in: {string.Join(" | ", errors)}");
    }

    /// <summary>
    /// The mapping to exit code 78, once per stage that can refuse a configuration (the file itself, the
    /// key check, the bound options); which messages each stage gives is tested above.
    /// </summary>
    [Theory]
    [InlineData("not JSON")]
    [InlineData("unknown key")]
    [InlineData("bad value")]
    [InlineData("no such file")]
    public async Task Each_stage_that_refuses_a_configuration_exits_with_code_78(string stage)
    {
        var config = ValidConfig();
        var path = Write(config);
        switch (stage)
        {
            case "not JSON":
                File.WriteAllText(path, "{ \"DeviceId\": ");
                break;
            case "unknown key":
                config["Mqtt"]!["Hots"] = "x";
                path = Write(config);
                break;
            case "bad value":
                config["Mqtt"]!["Port"] = 0;
                path = Write(config);
                break;
            default:
                path = Path.Combine(_dir, "missing.json");
                break;
        }

        Assert.Equal(78, await RunCommand.RunAsync(path, CancellationToken.None));
    }

    [Fact]
    public void The_http_endpoint_is_off_and_on_loopback_by_default_and_its_keys_bind()
    {
        var defaults = ConfigurationLoader.Load(Write(ValidConfig()), new Dictionary<string, string?>()).Options.Http;
        Assert.False(defaults.Enabled);
        Assert.Equal("127.0.0.1", defaults.Listen);
        Assert.Equal(9464, defaults.Port);

        var config = ValidConfig();
        config["Http"] = new JsonObject { ["Enabled"] = true, ["Listen"] = "::1", ["Port"] = 8080, ["StreamMaxFps"] = 2.5, ["StallSeconds"] = 60 };
        var http = ConfigurationLoader.Load(Write(config), new Dictionary<string, string?> { ["EDGESEG_Http__Port"] = "9000" }).Options.Http;
        Assert.Equal(("::1", 9000, 2.5, 60.0), (http.Listen, http.Port, http.StreamMaxFps, http.StallSeconds));

        // Off, its values are not checked: a half-written section does not stop the service.
        config["Http"] = new JsonObject { ["Enabled"] = false, ["Listen"] = "somewhere" };
        Assert.NotNull(ConfigurationLoader.Load(Write(config), new Dictionary<string, string?>()));
    }

    [Fact]
    public void Every_error_is_listed_at_once()
    {
        var config = ValidConfig();
        config["DeviceId"] = "";
        config["Mqtt"]!["Port"] = 0;
        config["Cameras"]![0]!["Source"] = "foo://x";
        var errors = Errors(config);
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void A_bad_value_from_the_environment_is_named_like_one_from_the_file()
    {
        var errors = Errors(ValidConfig(), new Dictionary<string, string?> { ["EDGESEG_Mqtt__Port"] = "eighteen" });
        Assert.Contains("Mqtt.Port: 'eighteen' is not a whole number", errors);
    }

    [Fact]
    public void A_file_that_is_not_json_is_reported_as_such()
    {
        var path = Path.Combine(_dir, "broken.json");
        File.WriteAllText(path, "{ \"DeviceId\": ");
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(path, new Dictionary<string, string?>()));
        Assert.Contains("not valid JSON", e.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_configuration_file_says_how_to_point_at_one()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(Path.Combine(_dir, "none.json"), new Dictionary<string, string?>()));
        Assert.Contains("does not exist (pass --config PATH)", e.Errors[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("random")]
    [InlineData("wrong-rank")]
    public async Task A_broken_model_stops_the_service_at_start_with_code_78(string kind)
    {
        var model = Path.Combine(_dir, $"{kind}.onnx");
        var good = File.ReadAllBytes(TestFiles.Fixture("colour_logits.onnx"));
        switch (kind)
        {
            case "truncated":
                File.WriteAllBytes(model, good[..(good.Length / 2)]);
                break;
            case "random":
                var noise = new byte[2048];
                new Random(7).NextBytes(noise);
                File.WriteAllBytes(model, noise);
                break;
            default:
                File.Copy(TestFiles.Fixture("wrong_rank.onnx"), model);
                break;
        }

        var config = ValidConfig();
        config["Model"]!["Path"] = model;
        var error = new StringWriter();
        var loaded = ConfigurationLoader.Load(Write(config), new Dictionary<string, string?>());
        Assert.Null(AppStartup.LoadModel(loaded, error));
        Assert.Contains($"model file '{model}'", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(78, await RunCommand.RunAsync(Write(config), CancellationToken.None));
    }

    [Fact]
    public async Task A_host_with_the_options_registration_refuses_to_start_naming_each_path()
    {
        // The registration the loader uses is the .NET options stack's: a host built on it validates at
        // start (ValidateOnStart) with the attribute rules and the rules across fields together.
        var config = Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(new Microsoft.Extensions.Configuration.ConfigurationBuilder(), new Dictionary<string, string?>
        {
            ["DeviceId"] = "box 1",
            ["Model:Path"] = TestFiles.Fixture("colour_logits.onnx"),
            ["Model:Threads"] = "999",
            ["Cameras:0:Name"] = "north",
            ["Cameras:0:Source"] = "synthetic://street",
            ["Cameras:0:Refinement:WorkingScale"] = "7",
            ["Cameras:1:Name"] = "North",
            ["Cameras:1:Source"] = "synthetic://street",
            ["Mqtt:SpoolPath"] = "",
        }).Build();
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new());
        builder.Services.AddEdgeSegOptions(config, _dir);
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("DeviceId: 'box 1' must be 1..64 characters without '/', '+', '#' or spaces (it is an MQTT topic level)", e.Failures);
        Assert.Contains("Model.Threads: must be 0 (all cores) .. 256, got 999", e.Failures);
        Assert.Contains("Cameras[0].Refinement.WorkingScale: must be 1..4 pixels, got 7", e.Failures);
        Assert.Contains("Cameras[1].Name: 'North' is already the name of Cameras[0]; names must be unique", e.Failures);
    }

    [Fact]
    public void The_refinement_section_binds_the_refiners_own_parameters_with_their_defaults()
    {
        var config = ValidConfig();
        config["Cameras"]![0]!["Refinement"] = new JsonObject { ["Enabled"] = true, ["Iterations"] = 8, ["WorkingScale"] = 2, ["CopyMargin"] = 0 };
        var refinement = ConfigurationLoader.Load(Write(config), new Dictionary<string, string?>()).Options.Cameras[0].Refinement;
        var defaults = new EdgeSeg.Pipeline.Refinement.CrfOptions();
        Assert.True(refinement.Enabled);
        Assert.Equal(8, refinement.Iterations);
        Assert.Equal(2, refinement.WorkingScale);
        Assert.Equal(0, refinement.CopyMargin);
        Assert.Equal(defaults.AppearanceSpatialSigma, refinement.AppearanceSpatialSigma);
        Assert.Equal(defaults.CopyColorTolerance, refinement.CopyColorTolerance);
        Assert.Equal(50, refinement.BudgetMs);
    }

    [Fact]
    public void Relative_paths_are_resolved_against_the_config_files_folder_before_validation()
    {
        var config = ValidConfig();
        config["Mqtt"]!["SpoolPath"] = "state/spool.db";
        var loaded = ConfigurationLoader.Load(Write(config), new Dictionary<string, string?>());
        Assert.Equal(Path.Combine(_dir, "state", "spool.db"), loaded.Options.Mqtt.SpoolPath);
        Assert.Equal(loaded.ModelPath, loaded.Options.Model.Path);
    }
}

public sealed class ConfigurationFileTests
{
    private readonly string _dir = TestFiles.NewTempDirectory();

    private IReadOnlyList<string> Errors(byte[] content)
    {
        var path = Path.Combine(_dir, "edgeseg.json");
        File.WriteAllBytes(path, content);
        return Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(path, new Dictionary<string, string?>())).Errors;
    }

    private IReadOnlyList<string> Errors(string content) => Errors(System.Text.Encoding.UTF8.GetBytes(content));

    private const string Camera = """ "Cameras": [ { "Name": "n", "Source": "synthetic://street" } ] """;

    [Fact]
    public void A_file_that_is_not_utf8_is_refused_with_the_line_and_column()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("{\n  \"DeviceId\": \"box-\u00e91\",\n}").ToList();
        bytes.Insert(bytes.IndexOf((byte)'1'), 0xFF);
        var error = Assert.Single(Errors([.. bytes]));
        Assert.Contains("not valid UTF-8 at line 2, column 21 (byte 0xFF)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_syntax_error_is_refused_with_the_line_and_position()
    {
        var error = Assert.Single(Errors("{\n  \"DeviceId\": \"b1\",\n  \"Cameras\": [ }\n"));
        Assert.Contains("not valid JSON at line 3, position 16", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_is_refused_as_one()
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(_dir, new Dictionary<string, string?>()));
        Assert.Contains("is a directory, not a file", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"abc\"", "Logging: must be an object")]
    [InlineData("{ \"LogLevel\": \"Debug\" }", "Logging.LogLevel: must be an object of category")]
    [InlineData("{ \"LogLevel\": { \"Default\": \"Loud\" } }", "Logging.LogLevel.Default: 'Loud' is not a log level")]
    [InlineData("{ \"LogLevel\": { \"Microsoft.Hosting\": \"3\" } }", "Logging.LogLevel.Microsoft.Hosting: '3' is not a log level")]
    [InlineData("{ \"Console\": { \"LogLevel\": { \"Default\": \"verbose\" } } }", "Logging.Console.LogLevel.Default: 'verbose' is not a log level")]
    public void Bad_logging_sections_are_refused_naming_the_path(string logging, string expected)
    {
        var errors = Errors($$"""{ "DeviceId": "b1", {{Camera}}, "Logging": {{logging}} }""");
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Good_logging_levels_in_any_case_are_accepted()
    {
        var path = Path.Combine(_dir, "edgeseg.json");
        File.WriteAllText(path, $$"""{ "DeviceId": "b1", "Model": { "Path": "{{TestFiles.Fixture("colour_logits.onnx")}}" }, {{Camera}}, "Mqtt": { "SpoolPath": "" }, "Logging": { "LogLevel": { "Default": "information", "Microsoft": "Warning" }, "Console": { "FormatterName": "simple" } } }""");
        Assert.NotNull(ConfigurationLoader.Load(path, new Dictionary<string, string?>()));
    }

    [Fact]
    public void An_unknown_key_is_reported_together_with_every_other_error()
    {
        var errors = Errors("""{ "DeviceId": "b 1", "Cameras": [ { "Name": "n", "Sourc": "synthetic://street" } ], "Mqtt": { "Port": 0 } }""");
        Assert.Contains(errors, e => e.StartsWith("Cameras[0].Sourc: unknown key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DeviceId: 'b 1' must be", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Mqtt.Port: must be 1..65535, got 0", StringComparison.Ordinal));
    }

}
