using System.Diagnostics;
using System.Text.Json;
using EdgeSeg.Service.Tests.Infrastructure;
using MQTTnet;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>A minute without the broker, as an operator's network would have it: nothing is lost and delivery resumes at once.</summary>
public sealed class BrokerOutageTests
{
    [SkippableFact]
    public async Task After_a_60_s_outage_a_persistent_subscriber_gets_every_seq_in_order_and_the_first_spooled_one_within_2_s()
    {
        var port = TestFiles.FreePort();
        var persistence = TestFiles.NewTempDirectory();
        if (!OperatingSystem.IsWindows())
        {
            // Started as root, mosquitto writes its persistence file as the 'mosquitto' user.
            File.SetUnixFileMode(persistence, (UnixFileMode)0b111_111_111);
        }

        var received = new List<(long Seq, string Run, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        async Task<IMqttClient> Subscriber()
        {
            var client = new MqttClientFactory().CreateMqttClient();
            client.ApplicationMessageReceivedAsync += e =>
            {
                var root = JsonDocument.Parse(e.ApplicationMessage.ConvertPayloadToString()).RootElement;
                lock (received)
                {
                    received.Add((root.GetProperty("seq").GetInt64(), root.GetProperty("run").GetString()!, clock.Elapsed));
                }

                return Task.CompletedTask;
            };

            // A persistent session: the broker queues QoS 1 messages for it while it is away.
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
                .WithClientId("outage-subscriber").WithCleanSession(false).WithSessionExpiryInterval(3600).Build());
            await client.SubscribeAsync("edgeseg/outage/cam1/stats", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
            return client;
        }

        var broker = MosquittoBroker.StartOn(port, "allow_anonymous true", persistence);
        using var service = ServiceWithMosquittoTests.ServiceUnderTest.Create("outage", port, windowFrames: 0, model: TestFiles.Fixture("colour_logits.onnx"),
            source: "synthetic://street?size=128x64&fps=10", windowSeconds: 1);
        var subscriber = await Subscriber();
        await service.Host.StartAsync();
        int Count()
        {
            lock (received)
            {
                return received.Count;
            }
        }

        var deadline = Stopwatch.StartNew();
        while (Count() < 3 && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        Assert.True(Count() >= 3, "no stats before the outage");
        subscriber.Dispose();
        broker.StopGracefully();
        broker.Dispose();
        var before = Count();

        await Task.Delay(TimeSpan.FromSeconds(60));

        var restartedAt = clock.Elapsed;
        using var restarted = MosquittoBroker.StartOn(port, "allow_anonymous true", persistence);
        using var again = await Subscriber();
        deadline.Restart();
        while (Count() < before + 62 && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        await service.Host.StopAsync();
        List<(long Seq, string Run, TimeSpan At)> all;
        lock (received)
        {
            all = [.. received];
        }

        Assert.Single(all.Select(r => r.Run).Distinct());
        var seqs = all.Select(r => r.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);   // every seq, in order, no gap, no duplicate
        Assert.True(seqs.Count >= before + 55, $"only {seqs.Count - before} windows after the outage");
        var firstSpooled = all[before].At - restartedAt;
        Assert.True(firstSpooled < TimeSpan.FromSeconds(2), $"the first spooled window arrived {firstSpooled.TotalSeconds:0.00} s after the broker was back");
    }
}
