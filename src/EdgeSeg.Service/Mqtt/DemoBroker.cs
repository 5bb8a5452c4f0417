using System.Net;
using System.Net.Sockets;
using MQTTnet.Server;

namespace EdgeSeg.Service.Mqtt;

/// <summary>
/// An MQTT broker inside the process, for the demo on a machine without one: started only when nothing
/// listens on the configured loopback port.
/// </summary>
internal sealed class DemoBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private DemoBroker(MqttServer server) => _server = server;

    /// <summary>True when something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> IsListeningAsync(string host, int port, CancellationToken token)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(500));
        try
        {
            await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public static async Task<DemoBroker> StartAsync(int port)
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(options);

        // Clients such as mosquitto_sub connect with an empty client id and expect the broker to assign
        // one (MQTT 3.1.1 §3.1.3.1, MQTT 5 Assigned Client Identifier), as mosquitto does.
        server.ValidatingConnectionAsync += e =>
        {
            if (string.IsNullOrEmpty(e.ClientId))
            {
                e.AssignedClientIdentifier = $"auto-{Guid.NewGuid():N}";
            }

            return Task.CompletedTask;
        };
        await server.StartAsync().ConfigureAwait(false);
        return new DemoBroker(server);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
