using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Tests.Infrastructure;
using EdgeSeg.Pipeline.Inference;
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

    /// <summary>The hosted service built from a configuration file, on a looping street video.</summary>
    internal sealed class ServiceUnderTest : IDisposable
    {
        private ServiceUnderTest(LoadedConfiguration config, OnnxSegmenter segmenter, CameraStages refinements, IHost host)
        {
            Config = config;
            Segmenter = segmenter;
            Refinements = refinements;
            Host = host;
        }

        public LoadedConfiguration Config { get; }

        public OnnxSegmenter Segmenter { get; }

        public CameraStages Refinements { get; }

        public IHost Host { get; }

        /// <summary>
        /// Writes the video and configuration and builds the host (not started); a null model means the
        /// bundled one; <paramref name="configure"/> may change the configuration before it is written.
        /// </summary>
        public static ServiceUnderTest Create(
            string deviceId, int port, int windowFrames, string? model, string? spoolPath = null, string? source = null, double? windowSeconds = null,
            Action<JsonObject>? configure = null)
        {
            var dir = TestFiles.NewTempDirectory();
            var video = source is null ? WriteStreetVideo(dir) : null;
            var configPath = Path.Combine(dir, "edgeseg.json");
            var json = new JsonObject
            {
                ["DeviceId"] = deviceId,
                ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "cam1", ["Source"] = source ?? $"file://{video}?loop=true" }),
                ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = port, ["SpoolPath"] = spoolPath ?? Path.Combine(dir, "spool.db") },
                ["Statistics"] = windowSeconds is { } seconds ? new JsonObject { ["WindowSeconds"] = seconds } : new JsonObject { ["WindowFrames"] = windowFrames },
            };
            if (model is not null)
            {
                json["Model"] = new JsonObject { ["Path"] = model };
            }

            configure?.Invoke(json);
            File.WriteAllText(configPath, json.ToJsonString());
            var config = ConfigurationLoader.Load(configPath, new Dictionary<string, string?>());
            var segmenter = AppStartup.LoadModel(config, Console.Error) ?? throw new InvalidOperationException("model did not load");
            var refinements = AppStartup.Cameras(config, segmenter, Console.Error) ?? throw new InvalidOperationException("camera stages did not build");
            return new ServiceUnderTest(config, segmenter, refinements, ServiceHost.Build(config, segmenter, refinements, LogLevel.Warning));
        }

        public void Dispose()
        {
            Host.Dispose();
            Refinements.Dispose();
            Segmenter.Dispose();
        }
    }

    [SkippableFact]
    public async Task The_service_publishes_online_growing_stats_and_offline_to_a_real_broker()
    {
        using var broker = MosquittoBroker.Start();
        using var service = ServiceUnderTest.Create("itest", broker.Port, windowFrames: 5, model: null);
        Assert.Equal(BundledModel.DefaultPath, service.Config.ModelPath);
        var segmenter = service.Segmenter;
        var host = service.Host;

        await using var watcher = await MqttProbe.SubscribeAsync(broker.Port, "edgeseg/itest/#");
        await host.StartAsync();

        var gotStats = await watcher.WaitForAsync(m => m.Count(x => x.Topic == "edgeseg/itest/cam1/stats") >= 3, TimeSpan.FromSeconds(90));
        Assert.True(gotStats, $"fewer than 3 stats messages: {string.Join(", ", watcher.Messages.Select(m => m.Topic))}");

        // A subscriber arriving now is told the retained status.
        await using (var late = await MqttProbe.SubscribeAsync(broker.Port, "edgeseg/itest/status"))
        {
            Assert.True(await late.WaitForAsync(m => m.Count > 0, TimeSpan.FromSeconds(10)));
            var status = late.Messages.First();
            Assert.Equal("online", status.Payload);
            PayloadSchemas.AssertValid("status", status.Payload);
            Assert.True(status.Retained);
        }

        foreach (var m in watcher.Messages.Where(m => m.Topic == "edgeseg/itest/cam1/stats"))
        {
            PayloadSchemas.AssertValid("stats", m.Payload);
        }

        var stats = watcher.Messages.Where(m => m.Topic == "edgeseg/itest/cam1/stats").Select(m => JsonNode.Parse(m.Payload)!).ToList();
        var seqs = stats.Select(s => s["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.Order().Distinct(), seqs);
        var run = Assert.Single(stats.Select(s => s["run"]!.GetValue<string>()).Distinct());
        Assert.Matches(@"^\d{8}T\d{6}Z-[0-9a-f]{8}$", run);
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

    [SkippableFact]
    public async Task Statistics_wait_in_the_spool_while_the_broker_is_away_and_arrive_when_it_comes()
    {
        var port = TestFiles.FreePort();
        using var service = ServiceUnderTest.Create("spool", port, windowFrames: 2, model: TestFiles.Fixture("colour_logits.onnx"));
        var host = service.Host;
        await host.StartAsync();

        // No broker yet: inference goes on and windows pile up in the spool.
        await Task.Delay(TimeSpan.FromSeconds(2));

        using var broker = MosquittoBroker.StartOn(port);
        await using var watcher = await MqttProbe.SubscribeAsync(port, "edgeseg/spool/cam1/stats");
        var arrived = await watcher.WaitForAsync(
            m => m.Select(x => JsonDocument.Parse(x.Payload).RootElement.GetProperty("seq").GetInt64()).Contains(1),
            TimeSpan.FromSeconds(60));
        await host.StopAsync();
        Assert.True(arrived, "the first window, produced while the broker was away, never arrived");
    }

    [SkippableFact]
    public async Task After_the_broker_restarts_the_service_reconnects_says_online_and_goes_on_counting()
    {
        var port = TestFiles.FreePort();
        using var service = ServiceUnderTest.Create("flap", port, windowFrames: 3, model: TestFiles.Fixture("colour_logits.onnx"));
        var host = service.Host;

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

    [SkippableFact]
    public async Task Windows_spooled_when_the_service_is_stopped_during_an_outage_arrive_after_the_next_start_in_order_with_their_run_and_seq()
    {
        var port = TestFiles.FreePort();
        var spool = Path.Combine(TestFiles.NewTempDirectory(), "spool.db");
        string firstRun;
        long lastSeqBefore;
        using (var first = ServiceUnderTest.Create("restart", port, windowFrames: 2, model: TestFiles.Fixture("colour_logits.onnx"), spoolPath: spool))
        {
            using (var broker = MosquittoBroker.StartOn(port))
            {
                await first.Host.StartAsync();
                await using var before = await MqttProbe.SubscribeAsync(port, "edgeseg/restart/cam1/stats");
                Assert.True(await before.WaitForAsync(m => m.Count >= 2, TimeSpan.FromSeconds(60)), "no stats before the outage");
                var last = JsonDocument.Parse(before.Messages.Last().Payload).RootElement;
                firstRun = last.GetProperty("run").GetString()!;
                lastSeqBefore = before.Messages.Max(m => JsonDocument.Parse(m.Payload).RootElement.GetProperty("seq").GetInt64());
            }

            // The broker is gone; windows go on into the spool; 15 s on, the service is stopped (SIGTERM's path).
            await Task.Delay(TimeSpan.FromSeconds(15));
            await first.Host.StopAsync();
        }

        long spooled;
        using (var check = new EdgeSeg.Service.Mqtt.MessageSpool(spool, 1000, TimeSpan.FromDays(1), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
        {
            spooled = check.Depth;
        }

        Assert.True(spooled >= 2, $"only {spooled} windows were spooled during the outage");

        using var restarted = MosquittoBroker.StartOn(port);
        await using var after = await MqttProbe.SubscribeAsync(port, "edgeseg/restart/cam1/stats");
        using var second = ServiceUnderTest.Create("restart", port, windowFrames: 2, model: TestFiles.Fixture("colour_logits.onnx"), spoolPath: spool);
        await second.Host.StartAsync();
        var delivered = await after.WaitForAsync(
            m => m.Count(x => JsonDocument.Parse(x.Payload).RootElement.GetProperty("run").GetString() != firstRun) >= 1,
            TimeSpan.FromSeconds(60));
        await second.Host.StopAsync();
        Assert.True(delivered, "the second run published nothing");

        foreach (var m in after.Messages)
        {
            PayloadSchemas.AssertValid("stats", m.Payload);
        }

        var runs = after.Messages.Select(m => JsonDocument.Parse(m.Payload).RootElement)
            .Select(e => (Run: e.GetProperty("run").GetString()!, Seq: e.GetProperty("seq").GetInt64())).ToList();
        var old = runs.Where(r => r.Run == firstRun).Select(r => r.Seq).ToList();

        // Everything the first run produced after the last window seen live, in order, no gap, no duplicate —
        // and all of it before the second run's own windows.
        Assert.Equal(spooled, old.Count);
        Assert.Equal(Enumerable.Range((int)lastSeqBefore + 1, old.Count).Select(i => (long)i), old);
        Assert.True(runs.FindLastIndex(r => r.Run == firstRun) < runs.FindIndex(r => r.Run != firstRun));
        Assert.Equal(1, runs.First(r => r.Run != firstRun).Seq);
    }

    [SkippableFact]
    public async Task A_camera_that_delivers_nothing_still_gets_a_window_every_period_with_zero_frames_and_its_state()
    {
        var port = TestFiles.FreePort();
        using var broker = MosquittoBroker.StartOn(port);
        await using var watcher = await MqttProbe.SubscribeAsync(port, "edgeseg/dead/cam1/stats");
        await using var status = await MqttProbe.SubscribeAsync(port, "edgeseg/dead/cam1/status");
        var dead = $"rtsp://127.0.0.1:{TestFiles.FreePort()}/nothing";
        using var service = ServiceUnderTest.Create("dead", port, windowFrames: 0, model: TestFiles.Fixture("colour_logits.onnx"), source: dead, windowSeconds: 1);
        await service.Host.StartAsync();
        var got = await watcher.WaitForAsync(m => m.Count >= 2, TimeSpan.FromSeconds(30));
        await service.Host.StopAsync();

        Assert.True(got, "no windows from a camera that delivers nothing");
        var states = status.Messages.Select(m => JsonDocument.Parse(m.Payload).RootElement).ToList();
        // The retained status follows every change that happens while connected (earlier ones are
        // superseded by the state sent at connection): here each failed attempt, with its error.
        Assert.Contains(states, s => s.GetProperty("state").GetString() == "reconnecting" && s.TryGetProperty("last_error", out _));
        Assert.True(states.Select(s => s.GetProperty("reconnects").GetInt32()).Distinct().Count() >= 2, "the status did not follow the failures");
        foreach (var m in status.Messages)
        {
            PayloadSchemas.AssertValid("camera-status", m.Payload);
        }

        foreach (var m in watcher.Messages)
        {
            PayloadSchemas.AssertValid("stats", m.Payload);
            var e = JsonDocument.Parse(m.Payload).RootElement;
            Assert.Equal(0, e.GetProperty("window").GetProperty("frames").GetInt32());
            Assert.Equal(0, e.GetProperty("fps").GetDouble());
            var start = DateTimeOffset.Parse(e.GetProperty("window").GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var end = DateTimeOffset.Parse(e.GetProperty("window").GetProperty("end").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange((end - start).TotalSeconds, 0.9, 2.0);   // within 2 × WindowSeconds, as promised
            Assert.Contains(e.GetProperty("camera_state").GetString(), new[] { "connecting", "reconnecting" });
        }
    }
}
