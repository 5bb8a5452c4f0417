using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Synthetic;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>
/// Zones end to end: the configuration <c>edgeseg dataset zones</c> prints for a synthetic street with a
/// scripted queue, run by the service with the bundled model against a real mosquitto.
/// </summary>
public sealed class ZoneEventsTests
{
    [SkippableFact]
    public async Task A_scripted_queue_is_published_as_one_start_and_one_end_and_windows_carry_zones_groups_and_square_metres()
    {
        const double Forms = 3, Dissolves = 15;
        using var broker = MosquittoBroker.Start();
        var dir = TestFiles.NewTempDirectory();
        var uri = FormattableString.Invariant($"synthetic://street?seed=7&size=512x256&fps=8&queue={Forms}-{Dissolves}");
        using var street = SyntheticFrameSource.Open(new Uri(uri));
        var config = DatasetZonesCommand.Configuration(street, uri, 45);
        config["Mqtt"] = new JsonObject { ["Port"] = broker.Port, ["SpoolPath"] = "" };
        config["Statistics"]!["WindowSeconds"] = 2;
        var path = Path.Combine(dir, "edgeseg.json");
        File.WriteAllText(path, config.ToJsonString());

        var loaded = ConfigurationLoader.Load(path, new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(loaded, Console.Error)!;
        using var stages = AppStartup.Cameras(loaded, segmenter, Console.Error)!;
        using var host = ServiceHost.Build(loaded, segmenter, stages, LogLevel.Warning);
        await using var watcher = await MqttProbe.SubscribeAsync(broker.Port, "edgeseg/street-demo/street/#");
        await host.StartAsync();
        var ended = await watcher.WaitForAsync(m => m.Any(x => x.Topic.EndsWith("/events", StringComparison.Ordinal) && x.Payload.Contains("\"end\"", StringComparison.Ordinal)), TimeSpan.FromSeconds(90));
        // Two more windows after the end: no second occupancy may follow it.
        await Task.Delay(TimeSpan.FromSeconds(4));
        await host.StopAsync();
        Assert.True(ended, $"no end event; events: {string.Join(" | ", watcher.Messages.Where(m => m.Topic.EndsWith("/events", StringComparison.Ordinal)).Select(m => m.Payload))}");

        var events = watcher.Messages.Where(m => m.Topic == "edgeseg/street-demo/street/events").Select(m => m.Payload).ToList();
        foreach (var e in events)
        {
            PayloadSchemas.AssertValid("event", e);
        }

        var parsed = events.Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal(["start", "end"], parsed.Select(e => e["event"]!.GetValue<string>()));
        var end = parsed[1];
        Assert.Equal("queue", end["rule"]!.GetValue<string>());
        Assert.Equal("vehicle", end["class"]!.GetValue<string>());
        // The queue stands Dissolves - Forms seconds of stream time (then drains through the zone); events are
        // timed by the wall clock, within one window of it, plus one more where a loaded machine renders the
        // scripted street slower than its 8 fps (its stream time then runs behind the wall clock).
        Assert.InRange(end["duration_s"]!.GetValue<double>(), Dissolves - Forms - 2, Dissolves - Forms + 2 + 2 + 2);

        var stats = watcher.Messages.Where(m => m.Topic == "edgeseg/street-demo/street/stats").Select(m => m.Payload).ToList();
        Assert.NotEmpty(stats);
        foreach (var s in stats)
        {
            PayloadSchemas.AssertValid("stats", s);
        }

        var last = JsonNode.Parse(stats[^1])!;
        var zones = last["zones"]!.AsObject().Select(z => z.Key).ToList();
        Assert.Equal(street.LaneCentres.Count, zones.Count(z => z.StartsWith("lane_", StringComparison.Ordinal)));
        Assert.True(last["area_m2"]!["road"]!["mean"]!.GetValue<double>() > 10);
        Assert.NotNull(last["groups"]!["vehicle"]);
    }
}
