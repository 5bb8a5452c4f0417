using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using OpenCvSharp;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>
/// The hosted service end to end against a real mosquitto: a video file through the bundled model, read
/// back by a separate MQTT client.
/// </summary>
public sealed class ServiceWithMosquittoTests
{
    private static string WriteStreetVideo(string dir)
    {
        // Sky over buildings over road, with a dark box moving along the road: enough to produce changing
        // class shares through any street model.
        var path = Path.Combine(dir, "street.avi");
        using var writer = new VideoWriter(path, FourCC.MJPG, 15, new Size(512, 256));
        for (var i = 0; i < 30; i++)
        {
            using var mat = new Mat(256, 512, MatType.CV_8UC3, new Scalar(200, 160, 110));
            Cv2.Rectangle(mat, new Rect(0, 70, 512, 80), new Scalar(90, 90, 95), -1);
            Cv2.Rectangle(mat, new Rect(0, 150, 512, 106), new Scalar(80, 80, 80), -1);
            Cv2.Rectangle(mat, new Rect(10 + (i * 12), 165, 90, 45), new Scalar(40, 30, 160), -1);
            writer.Write(mat);
        }

        return path;
    }

    [Fact]
    public async Task The_service_publishes_online_growing_stats_and_offline_to_a_real_broker()
    {
        using var broker = MosquittoBroker.Start();
        var dir = TestFiles.NewTempDirectory();
        var video = WriteStreetVideo(dir);
        var configPath = Path.Combine(dir, "edgeseg.json");
        File.WriteAllText(configPath, new JsonObject
        {
            ["DeviceId"] = "itest",
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "cam1", ["Source"] = $"file://{video}?loop=true" }),
            ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = broker.Port },
            ["Statistics"] = new JsonObject { ["WindowFrames"] = 5 },
        }.ToJsonString());

        var config = ConfigurationLoader.Load(configPath, new Dictionary<string, string?>());
        Assert.Equal(BundledModel.DefaultPath, config.ModelPath);
        using var segmenter = AppStartup.LoadModel(config, Console.Error);
        Assert.NotNull(segmenter);

        await using var watcher = await MqttProbe.SubscribeAsync(broker.Port, "edgeseg/itest/#");
        using var refinements = AppStartup.Refinements(config);
        using var host = ServiceHost.Build(config, segmenter, refinements, LogLevel.Warning);
        await host.StartAsync();

        var gotStats = await watcher.WaitForAsync(m => m.Count(x => x.Topic == "edgeseg/itest/cam1/stats") >= 3, TimeSpan.FromSeconds(90));
        Assert.True(gotStats, $"fewer than 3 stats messages: {string.Join(", ", watcher.Messages.Select(m => m.Topic))}");

        // A subscriber arriving now is told the retained status.
        await using (var late = await MqttProbe.SubscribeAsync(broker.Port, "edgeseg/itest/status"))
        {
            Assert.True(await late.WaitForAsync(m => m.Count > 0, TimeSpan.FromSeconds(10)));
            var status = late.Messages.First();
            Assert.Equal("online", status.Payload);
            Assert.True(status.Retained);
        }

        var stats = watcher.Messages.Where(m => m.Topic == "edgeseg/itest/cam1/stats").Select(m => JsonNode.Parse(m.Payload)!).ToList();
        var seqs = stats.Select(s => s["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.Order().Distinct(), seqs);
        foreach (var s in stats)
        {
            Assert.Equal("itest", s["device"]!.GetValue<string>());
            Assert.Equal("cam1", s["camera"]!.GetValue<string>());
            Assert.Equal(5, s["window"]!["frames"]!.GetValue<int>());
            Assert.EndsWith("Z", s["timestamp"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(segmenter.Model.Name, s["model"]!.GetValue<string>());
            var shares = s["shares"]!.AsObject();
            Assert.Equal(segmenter.Model.Labels.ClassNames, shares.Select(p => p.Key));
            Assert.InRange(shares.Sum(p => p.Value!.GetValue<double>()), 1 - 1e-3, 1 + 1e-3);
        }

        await host.StopAsync();

        await using var after = await MqttProbe.SubscribeAsync(broker.Port, "edgeseg/itest/status");
        Assert.True(await after.WaitForAsync(m => m.Count > 0, TimeSpan.FromSeconds(10)));
        var final = after.Messages.First();
        Assert.Equal("offline", final.Payload);
        Assert.True(final.Retained);
    }

    [Fact]
    public async Task Statistics_wait_in_the_spool_while_the_broker_is_away_and_arrive_when_it_comes()
    {
        var dir = TestFiles.NewTempDirectory();
        var video = WriteStreetVideo(dir);
        var configPath = Path.Combine(dir, "edgeseg.json");
        var port = TestFiles.FreePort();
        File.WriteAllText(configPath, new JsonObject
        {
            ["DeviceId"] = "spool",
            ["Model"] = new JsonObject { ["Path"] = TestFiles.Fixture("colour_logits.onnx") },
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "cam1", ["Source"] = $"file://{video}?loop=true" }),
            ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = port },
            ["Statistics"] = new JsonObject { ["WindowFrames"] = 2 },
        }.ToJsonString());
        var config = ConfigurationLoader.Load(configPath, new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(config, Console.Error);
        Assert.NotNull(segmenter);
        using var refinements = AppStartup.Refinements(config);
        using var host = ServiceHost.Build(config, segmenter, refinements, LogLevel.Warning);
        await host.StartAsync();

        // No broker yet: inference goes on and windows pile up in the spool.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(segmenter.Model.Name.Length > 0);

        using var broker = MosquittoBroker.StartOn(port);
        await using var watcher = await MqttProbe.SubscribeAsync(port, "edgeseg/spool/cam1/stats");
        var arrived = await watcher.WaitForAsync(
            m => m.Select(x => JsonDocument.Parse(x.Payload).RootElement.GetProperty("seq").GetInt64()).Contains(1),
            TimeSpan.FromSeconds(60));
        await host.StopAsync();
        Assert.True(arrived, "the first window, produced while the broker was away, never arrived");
    }

    [Fact]
    public async Task After_the_broker_restarts_the_service_reconnects_says_online_and_goes_on_counting()
    {
        var dir = TestFiles.NewTempDirectory();
        var video = WriteStreetVideo(dir);
        var configPath = Path.Combine(dir, "edgeseg.json");
        var port = TestFiles.FreePort();
        File.WriteAllText(configPath, new JsonObject
        {
            ["DeviceId"] = "flap",
            ["Model"] = new JsonObject { ["Path"] = TestFiles.Fixture("colour_logits.onnx") },
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "cam1", ["Source"] = $"file://{video}?loop=true" }),
            ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = port },
            ["Statistics"] = new JsonObject { ["WindowFrames"] = 3 },
        }.ToJsonString());
        var config = ConfigurationLoader.Load(configPath, new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(config, Console.Error);
        Assert.NotNull(segmenter);
        using var refinements = AppStartup.Refinements(config);
        using var host = ServiceHost.Build(config, segmenter, refinements, LogLevel.Warning);

        long lastSeqBefore;
        var broker = MosquittoBroker.StartOn(port);
        try
        {
            await host.StartAsync();
            await using var before = await MqttProbe.SubscribeAsync(port, "edgeseg/flap/cam1/stats");
            Assert.True(await before.WaitForAsync(m => m.Count >= 2, TimeSpan.FromSeconds(60)), "no stats before the restart");
            lastSeqBefore = before.Messages.Max(m => JsonDocument.Parse(m.Payload).RootElement.GetProperty("seq").GetInt64());
        }
        finally
        {
            broker.Dispose();
        }

        // The broker is gone for a while; inference goes on.
        await Task.Delay(TimeSpan.FromSeconds(2));
        using var restarted = MosquittoBroker.StartOn(port);
        await using var after = await MqttProbe.SubscribeAsync(port, "edgeseg/flap/#");
        var resumed = await after.WaitForAsync(
            m => m.Any(x => x.Topic == "edgeseg/flap/status" && x.Payload == "online")
                 && m.Any(x => x.Topic.EndsWith("/stats", StringComparison.Ordinal)
                               && JsonDocument.Parse(x.Payload).RootElement.GetProperty("seq").GetInt64() > lastSeqBefore + 1),
            TimeSpan.FromSeconds(90));
        await host.StopAsync();
        Assert.True(resumed, $"after the restart: {string.Join(", ", after.Messages.Select(m => m.Topic + "=" + (m.Payload.Length > 20 ? "json" : m.Payload)))}");
    }
}
