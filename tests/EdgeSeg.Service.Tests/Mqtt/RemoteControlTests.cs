using System.Text;
using System.Text.Json;
using EdgeSeg.Service.Tests.Infrastructure;
using MQTTnet;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>Commands over a real mosquitto: good ones change behaviour and are echoed, bad ones get a reason, stats flow on.</summary>
public sealed class RemoteControlTests
{
    private static async Task Send(int port, string topic, byte[] payload)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"cmd-{Guid.NewGuid():N}").Build());
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).Build());
        await client.DisconnectAsync();
    }

    private static Task Send(int port, string topic, string payload) => Send(port, topic, Encoding.UTF8.GetBytes(payload));

    [SkippableFact]
    public async Task Malformed_and_out_of_range_commands_get_their_reason_and_disturb_nothing_while_good_ones_apply_and_echo()
    {
        var port = TestFiles.FreePort();
        using var broker = MosquittoBroker.StartOn(port);
        await using var all = await MqttProbe.SubscribeAsync(port, "edgeseg/rc/#");
        using var service = ServiceWithMosquittoTests.ServiceUnderTest.Create("rc", port, windowFrames: 0, model: TestFiles.Fixture("colour_logits.onnx"),
            source: "synthetic://street?size=128x64&fps=20", windowSeconds: 1);
        await service.Host.StartAsync();
        Assert.True(await all.WaitForAsync(m => m.Count(x => x.Topic.EndsWith("/stats", StringComparison.Ordinal)) >= 1, TimeSpan.FromSeconds(60)), "no stats");

        var bad = new (string Topic, byte[] Payload, string Reason)[]
        {
            ("edgeseg/rc/set/window_seconds", Encoding.UTF8.GetBytes("abc"), "window_seconds must be a number"),
            ("edgeseg/rc/set/window_seconds", Encoding.UTF8.GetBytes("-1"), "0.5..3600"),
            ("edgeseg/rc/set/window_seconds", Encoding.UTF8.GetBytes("1e9"), "0.5..3600"),
            ("edgeseg/rc/set/window_seconds", Encoding.UTF8.GetBytes("{"), "not UTF-8 JSON"),
            ("edgeseg/rc/set/window_seconds", Encoding.UTF8.GetBytes("\"5\""), "must be a number"),
            ("edgeseg/rc/set/window_seconds", [], "got nothing"),
            ("edgeseg/rc/set/window_seconds", new byte[1 << 20], "commands take at most 4096"),
            ("edgeseg/rc/set/window_seconds", [0xFF, 0xFE, 0x31], "not UTF-8"),
            ("edgeseg/rc/set/nonsense", Encoding.UTF8.GetBytes("1"), "unknown device key 'nonsense'"),
            ("edgeseg/rc/set/crf", Encoding.UTF8.GetBytes("true"), "unknown device key 'crf'"),
            ("edgeseg/rc/ghost/set/crf", Encoding.UTF8.GetBytes("true"), "unknown camera 'ghost'"),
            ("edgeseg/rc/cam1/set/window_seconds", Encoding.UTF8.GetBytes("2"), "unknown camera key 'window_seconds'"),
            ("edgeseg/rc/cam1/set/crf", Encoding.UTF8.GetBytes("maybe"), "crf must be true or false"),
            ("edgeseg/rc/cam1/set/crf", Encoding.UTF8.GetBytes("1"), "crf must be true or false"),
            ("edgeseg/rc/cam1/set/crf_iterations", Encoding.UTF8.GetBytes("0"), "1..50"),
            ("edgeseg/rc/cam1/set/crf_iterations", Encoding.UTF8.GetBytes("2.5"), "whole number"),
            ("edgeseg/rc/cam1/set/crf_iterations", Encoding.UTF8.GetBytes("[5]"), "whole number"),
            ("edgeseg/rc/cam1/set/max_fps", Encoding.UTF8.GetBytes("fast"), "max_fps must be a rate"),
            ("edgeseg/rc/cam1/set/max_fps", Encoding.UTF8.GetBytes("0"), "(0, 240]"),
            ("edgeseg/rc/cam1/set/max_fps", Encoding.UTF8.GetBytes("1000"), "(0, 240]"),
            ("edgeseg/rc/cam1/set/max_fps", Encoding.UTF8.GetBytes("{\"fps\": 5}"), "max_fps must be a rate"),
        };
        var statsBefore = all.Messages.Count(x => x.Topic.EndsWith("/stats", StringComparison.Ordinal));
        foreach (var (topic, payload, _) in bad)
        {
            await Send(port, topic, payload);
        }

        Assert.True(await all.WaitForAsync(m => m.Count(x => x.Topic == "edgeseg/rc/error") >= bad.Length, TimeSpan.FromSeconds(30)),
            $"errors: {string.Join(" | ", all.Messages.Where(x => x.Topic == "edgeseg/rc/error").Select(x => x.Payload))}");
        foreach (var m in all.Messages.Where(x => x.Topic == "edgeseg/rc/error"))
        {
            PayloadSchemas.AssertValid("error", m.Payload);
        }

        var errors = all.Messages.Where(x => x.Topic == "edgeseg/rc/error").Select(x => JsonDocument.Parse(x.Payload).RootElement).ToList();
        foreach (var (topic, _, reason) in bad)
        {
            Assert.True(
                errors.Any(e => e.GetProperty("topic").GetString() == topic && e.GetProperty("reason").GetString()!.Contains(reason, StringComparison.Ordinal)),
                $"no error on {topic} saying '{reason}'; errors on it: {string.Join(" | ", errors.Where(e => e.GetProperty("topic").GetString() == topic).Select(e => e.GetProperty("reason").GetString()))}");
        }

        Assert.DoesNotContain(all.Messages, x => x.Topic.Contains("/state/", StringComparison.Ordinal));

        // Good commands: applied live and echoed retained.
        await Send(port, "edgeseg/rc/set/window_seconds", "2");
        await Send(port, "edgeseg/rc/cam1/set/max_fps", "5");
        await Send(port, "edgeseg/rc/cam1/set/crf", "on");
        await Send(port, "edgeseg/rc/cam1/set/crf_iterations", "3");
        await Send(port, "edgeseg/rc/cam1/set/snapshot", "");
        Assert.True(await all.WaitForAsync(
            m => m.Any(x => x.Topic == "edgeseg/rc/state/window_seconds" && x.Payload == "2")
                 && m.Any(x => x.Topic == "edgeseg/rc/cam1/state/max_fps" && x.Payload == "5")
                 && m.Any(x => x.Topic == "edgeseg/rc/cam1/state/crf" && x.Payload == "true")
                 && m.Any(x => x.Topic == "edgeseg/rc/cam1/state/crf_iterations" && x.Payload == "3")
                 && m.Any(x => x.Topic == "edgeseg/rc/cam1/snapshot"),
            TimeSpan.FromSeconds(30)), string.Join(" | ", all.Messages.Select(x => x.Topic)));

        // The new window length shows in the windows that follow; stats never stopped.
        var twoSecond = await all.WaitForAsync(m => m.Where(x => x.Topic == "edgeseg/rc/cam1/stats").Select(x => JsonDocument.Parse(x.Payload).RootElement)
            .Any(e => (DateTimeOffset.Parse(e.GetProperty("window").GetProperty("end").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                      - DateTimeOffset.Parse(e.GetProperty("window").GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).TotalSeconds > 1.5), TimeSpan.FromSeconds(30));
        foreach (var m in all.Messages.Where(x => x.Topic.Contains("/state/", StringComparison.Ordinal)))
        {
            PayloadSchemas.AssertValid("state", m.Payload);
        }

        var snapshot = all.Messages.First(x => x.Topic == "edgeseg/rc/cam1/snapshot").Bytes;
        using (var image = OpenCvSharp.Cv2.ImDecode(snapshot, OpenCvSharp.ImreadModes.Color))
        {
            Assert.Equal((0xFF, 0xD8), (snapshot[0], snapshot[1]));   // a JPEG
            Assert.Equal(128, image.Width);                             // the camera's frame, overlaid, with its legend
        }

        var flowing = await all.WaitForAsync(m => m.Count(x => x.Topic.EndsWith("/stats", StringComparison.Ordinal)) >= statsBefore + 3, TimeSpan.FromSeconds(30));
        await service.Host.StopAsync();
        Assert.True(twoSecond, "no window of the new length");
        Assert.True(flowing, "stats stopped flowing after the commands");
        foreach (var m in all.Messages.Where(x => x.Topic.EndsWith("/stats", StringComparison.Ordinal)))
        {
            PayloadSchemas.AssertValid("stats", m.Payload);
        }
    }
}
