using System.Collections.Concurrent;
using MQTTnet;

namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>A received MQTT message as a subscriber saw it.</summary>
internal sealed record ReceivedMessage(string Topic, string Payload, bool Retained)
{
    /// <summary>The payload's bytes (for binary payloads such as snapshots).</summary>
    public byte[] Bytes { get; init; } = [];
}

/// <summary>An MQTT client of the test's own that subscribes to a filter and records what arrives.</summary>
internal sealed class MqttProbe : IAsyncDisposable
{
    private readonly IMqttClient _client;

    private MqttProbe(IMqttClient client) => _client = client;

    public ConcurrentQueue<ReceivedMessage> Messages { get; } = new();

    public static async Task<MqttProbe> SubscribeAsync(int port, string filter)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var probe = new MqttProbe(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            probe.Messages.Enqueue(new ReceivedMessage(m.Topic, m.ConvertPayloadToString(), m.Retain) { Bytes = System.Buffers.BuffersExtensions.ToArray(m.Payload) });
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId($"probe-{Guid.NewGuid():N}")
            .Build());
        await client.SubscribeAsync(filter);
        return probe;
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the messages so far.</summary>
    public async Task<bool> WaitForAsync(Func<IReadOnlyCollection<ReceivedMessage>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition(Messages.ToArray()))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition(Messages.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}
