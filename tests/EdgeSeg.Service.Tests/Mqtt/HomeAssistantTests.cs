using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>Home Assistant discovery and a subscriber on another MQTT stack (paho), against a real mosquitto.</summary>
public sealed class HomeAssistantTests
{
    private readonly string _dir = TestFiles.NewTempDirectory();

    private IHost Service(int port, params string[] cameras)
    {
        var config = Path.Combine(_dir, "edgeseg.json");
        File.WriteAllText(config, new JsonObject
        {
            ["DeviceId"] = "ha-box",
            ["Model"] = new JsonObject { ["Path"] = TestFiles.Fixture("colour_logits.onnx") },
            ["Cameras"] = new JsonArray([.. cameras.Select(c => (JsonNode)new JsonObject { ["Name"] = c, ["Source"] = "synthetic://street?size=128x64&fps=10" })]),
            ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = port, ["SpoolPath"] = "" },
            ["Statistics"] = new JsonObject { ["WindowSeconds"] = 1 },
            ["HomeAssistant"] = new JsonObject { ["Enabled"] = true, ["Classes"] = new JsonArray("red", "blue") },
        }.ToJsonString());
        var loaded = ConfigurationLoader.Load(config, new Dictionary<string, string?>());
        var segmenter = AppStartup.LoadModel(loaded, Console.Error)!;
        return ServiceHost.Build(loaded, segmenter, AppStartup.Cameras(loaded, segmenter, Console.Error)!, LogLevel.Warning);
    }

    private static async Task<List<JsonElement>> Paho(int port, double seconds, Func<Task> during, params string[] filters)
    {
        var script = TestFiles.Fixture("paho_subscriber.py");
        var start = new ProcessStartInfo("/usr/bin/python3", [script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), .. filters])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var python = Process.Start(start)!;
        var lines = new List<JsonElement>();
        var reader = Task.Run(async () =>
        {
            while (await python.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                {
                    lines.Add(JsonDocument.Parse(line).RootElement.Clone());
                }
            }
        });
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && !lines.ToArray().Any(l => l.TryGetProperty("event", out _)))
        {
            await Task.Delay(50);
        }

        await during();
        await python.WaitForExitAsync();
        await reader;
        Assert.True(python.ExitCode == 0, await python.StandardError.ReadToEndAsync());
        return lines;
    }

    [SkippableFact]
    public async Task Discovery_gives_a_sensor_per_camera_and_class_a_paho_client_reads_it_and_a_removed_camera_leaves_none()
    {
        var port = TestFiles.FreePort();
        using var broker = MosquittoBroker.StartOn(port);

        var seen = await Paho(port, 8, async () =>
        {
            using var host = Service(port, "north", "south");
            await host.StartAsync();
            await Task.Delay(4000);
            using (var client = new MqttClientFactory().CreateMqttClient())
            {
                await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).Build());
                await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edgeseg/ha-box/north/set/max_fps").WithPayload("4").Build());
                await client.DisconnectAsync();
            }

            await Task.Delay(1500);
            await host.StopAsync();
        }, "homeassistant/#", "edgeseg/ha-box/+/stats", "edgeseg/ha-box/+/state/#");

        var configs = seen.Where(l => l.TryGetProperty("topic", out var t) && t.GetString()!.StartsWith("homeassistant/sensor/edgeseg_ha-box/", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            new[] { "north_blue", "north_red", "south_blue", "south_red" },
            configs.Select(c => c.GetProperty("topic").GetString()!.Split('/')[3]).Distinct().Order());
        var north = JsonNode.Parse(configs.First(c => c.GetProperty("topic").GetString()!.Contains("/north_red/", StringComparison.Ordinal)).GetProperty("payload").GetString()!)!;
        Assert.Equal("edgeseg/ha-box/north/stats", (string?)north["state_topic"]);
        Assert.Equal("%", (string?)north["unit_of_measurement"]);
        Assert.Equal("measurement", (string?)north["state_class"]);
        Assert.Equal("edgeseg/ha-box/status", (string?)north["availability_topic"]);
        Assert.Equal("edgeseg_ha-box", (string?)north["device"]!["identifiers"]![0]);
        Assert.Contains("value_json.shares['red']", (string?)north["value_template"], StringComparison.Ordinal);

        // The same messages, read by paho: stats parse and validate, the command's state echo arrived.
        var stats = seen.Where(l => l.TryGetProperty("topic", out var t) && t.GetString()!.EndsWith("/stats", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(stats);
        foreach (var s in stats)
        {
            PayloadSchemas.AssertValid("stats", s.GetProperty("payload").GetString()!);
        }

        Assert.Contains(seen, l => l.TryGetProperty("topic", out var t) && t.GetString() == "edgeseg/ha-box/north/state/max_fps" && l.GetProperty("payload").GetString() == "4");

        // Start again without 'south': its sensors are removed from the broker.
        using (var host = Service(port, "north"))
        {
            await host.StartAsync();
            await Task.Delay(3500);
            await host.StopAsync();
        }

        var retained = await Paho(port, 2, () => Task.CompletedTask, "homeassistant/#");
        var left = retained.Where(l => l.TryGetProperty("topic", out _) && l.GetProperty("payload").GetString()!.Length > 0)
            .Select(l => l.GetProperty("topic").GetString()!.Split('/')[3]).Order().ToList();
        Assert.Equal(["north_blue", "north_red"], left);
    }
}
