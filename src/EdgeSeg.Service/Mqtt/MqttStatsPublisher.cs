using System.Text;
using System.Threading.Channels;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Service.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace EdgeSeg.Service.Mqtt;

/// <summary>
/// Publishes statistics to the broker from a bounded spool, so the pipeline never waits for the network:
/// <see cref="Enqueue"/> returns at once, and while the broker is away messages wait (the oldest are
/// dropped and counted when the spool is full). Reconnects with a jittered backoff (within about 1 s for the first minute of an outage), announces itself with
/// a retained "online" and leaves a retained "offline" as its last will and on a clean stop.
/// </summary>
public sealed class MqttStatsPublisher : BackgroundService
{
    private static readonly byte[] Online = Encoding.UTF8.GetBytes("online");
    private static readonly byte[] Offline = Encoding.UTF8.GetBytes("offline");

    private readonly MqttOptions _options;
    private readonly string _deviceId;
    private readonly ILogger<MqttStatsPublisher> _logger;
    private readonly Channel<MqttApplicationMessage> _spool;
    private readonly IMqttClient _client;
    private long _dropped;
    private long _published;

    public MqttStatsPublisher(EdgeSegOptions options, ILogger<MqttStatsPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Mqtt;
        _deviceId = options.DeviceId;
        _logger = logger;
        Topics = new MqttTopics(_options.TopicPrefix, _deviceId);
        _spool = Channel.CreateBounded<MqttApplicationMessage>(
            new BoundedChannelOptions(_options.SpoolCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _client = new MqttClientFactory().CreateMqttClient();
    }

    public MqttTopics Topics { get; }

    /// <summary>Messages dropped because the spool was full while the broker was away.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public long Published => Interlocked.Read(ref _published);

    public bool IsConnected => _client.IsConnected;

    /// <summary>Queues a window for publishing; never blocks.</summary>
    public void Enqueue(string model, WindowStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(Topics.Stats(stats.Camera))
            .WithPayload(StatsPayload.Serialize(_deviceId, model, stats))
            .WithContentType("application/json")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        _spool.Writer.TryWrite(message);
    }

    /// <summary>Queues a retained message (health).</summary>
    public void EnqueueRetained(string topic, byte[] payload) =>
        _spool.Writer.TryWrite(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (!_client.IsConnected)
        {
            return;
        }

        try
        {
            // A clean disconnect does not fire the will, so the retained status is set by hand.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await _client.PublishAsync(StatusMessage(Offline), timeout.Token).ConfigureAwait(false);
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            _logger.LogWarning("MQTT: could not say offline before stopping: {Error}", e.Message);
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A broker that comes back is reached within about a second for the first minute of its absence
        // (then the attempts thin out to 10 s and 30 s, jittered); the delay starts over once connected.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var backoff = new Pipeline.Processing.ReconnectBackoff(() => clock.Elapsed, shortOutageCeiling: TimeSpan.FromSeconds(1));
        MqttApplicationMessage? pending = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!_client.IsConnected)
            {
                if (!await TryConnectAsync(stoppingToken).ConfigureAwait(false))
                {
                    await Task.Delay(backoff.Failed(), stoppingToken).ConfigureAwait(false);
                    continue;
                }

                backoff.Delivered();
            }

            try
            {
                pending ??= await _spool.Reader.ReadAsync(stoppingToken).ConfigureAwait(false);
                await _client.PublishAsync(pending, stoppingToken).ConfigureAwait(false);
                Interlocked.Increment(ref _published);
                pending = null;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
            {
                // The message stays pending and goes out after reconnecting.
                _logger.LogWarning("MQTT: publish failed ({Error}); reconnecting", e.Message);
            }
        }
    }

    private async Task<bool> TryConnectAsync(CancellationToken token)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithClientId(_options.ClientId.Length > 0 ? _options.ClientId : $"edgeseg-{_deviceId}")
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(_options.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Topics.Status)
            .WithWillPayload(Offline)
            .WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_options.Username.Length > 0)
        {
            builder.WithCredentials(_options.Username, _options.Password);
        }

        if (_options.UseTls)
        {
            builder.WithTlsOptions(tls => tls.UseTls());
        }

        try
        {
            await _client.ConnectAsync(builder.Build(), token).ConfigureAwait(false);
            await _client.PublishAsync(StatusMessage(Online), token).ConfigureAwait(false);
            _logger.LogInformation("MQTT: connected to {Host}:{Port}, publishing under {Root}", _options.Host, _options.Port, Topics.Root);
            return true;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is MqttCommunicationException or OperationCanceledException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            _logger.LogWarning("MQTT: cannot connect to {Host}:{Port}: {Error}", _options.Host, _options.Port, e.Message);
            return false;
        }
    }

    private MqttApplicationMessage StatusMessage(byte[] payload) => new MqttApplicationMessageBuilder()
        .WithTopic(Topics.Status)
        .WithPayload(payload)
        .WithRetainFlag()
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
        .Build();
}
