using System.Buffers;
using System.Text;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Service.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace EdgeSeg.Service.Mqtt;

/// <summary>
/// Publishes statistics to the broker through a durable spool (<see cref="MessageSpool"/>), so the pipeline
/// never waits for the network and nothing is lost while the broker is away, across a stop or a crash:
/// a message leaves the spool only once the broker has acknowledged it (QoS 1), in order. Health is not
/// spooled: only the newest matters, and it is retained. A publish the broker refuses (an ACL outside the
/// device's prefix) is counted, logged once per topic and not retried. Reconnects with a jittered backoff
/// (within about 1 s for the first minute of an outage), announces itself with a retained "online" and
/// leaves a retained "offline" as its last will and on a clean stop.
/// </summary>
public sealed class MqttStatsPublisher : BackgroundService
{
    private static readonly byte[] Online = Encoding.UTF8.GetBytes("online");
    private static readonly byte[] Offline = Encoding.UTF8.GetBytes("offline");

    private readonly MqttOptions _options;
    private readonly string _deviceId;
    private readonly ILogger<MqttStatsPublisher> _logger;
    private readonly MessageSpool _spool;
    private readonly IMqttClient _client;
    private const int MaxCommandsInFlight = 16;
    private readonly SemaphoreSlim _healthGate = new(1, 1);
    private readonly SemaphoreSlim _commandGate = new(MaxCommandsInFlight, MaxCommandsInFlight);
    private readonly HashSet<string> _refusedTopics = [];
    private volatile MqttApplicationMessage? _health;
    private long _published;
    private long _refused;

    public MqttStatsPublisher(IOptions<MqttOptions> mqtt, ApplianceIdentity appliance, ILogger<MqttStatsPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(mqtt);
        ArgumentNullException.ThrowIfNull(appliance);
        _options = mqtt.Value;
        _deviceId = appliance.DeviceId;
        _logger = logger;
        Topics = new MqttTopics(_options.TopicPrefix, _deviceId);
        _spool = new MessageSpool(_options.SpoolPath, _options.SpoolCapacity, TimeSpan.FromHours(_options.SpoolMaxAgeHours), logger);
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            if (_discovery is { } d && e.ApplicationMessage.Topic.StartsWith(d.OwnPrefix, StringComparison.Ordinal))
            {
                if (e.ApplicationMessage.Payload.Length > 0)
                {
                    lock (_retainedDiscovery)
                    {
                        _retainedDiscovery.Add(e.ApplicationMessage.Topic);
                    }
                }

                return Task.CompletedTask;
            }

            // Never awaited here: a slow or failing command must not hold up the client's receive loop.
            if (CommandHandler is { } handler && _commandGate.Wait(0))
            {
                var topic = e.ApplicationMessage.Topic;
                var payload = e.ApplicationMessage.Payload.ToArray();
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await handler(topic, payload).ConfigureAwait(false);
                    }
                    finally
                    {
                        _commandGate.Release();
                    }
                });
            }
            else if (CommandHandler is not null)
            {
                _logger.LogWarning("MQTT: command on {Topic} ignored: {Count} commands are already being handled", e.ApplicationMessage.Topic, MaxCommandsInFlight);
            }

            return Task.CompletedTask;
        };
    }

    public MqttTopics Topics { get; }

    /// <summary>Raised on the publishing thread when what health reports about MQTT changes: a connection is made, or the broker refuses a topic for the first time.</summary>
    public event Action? HealthChanged;

    private readonly HashSet<string> _retainedDiscovery = new(StringComparer.Ordinal);
    private volatile HomeAssistantDiscovery? _discovery;

    /// <summary>Sets the Home Assistant discovery to publish on every connection (now too, if connected).</summary>
    public void SetDiscovery(HomeAssistantDiscovery discovery)
    {
        _discovery = discovery;
        if (_client.IsConnected)
        {
            _ = RunDiscoveryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Publishes the discovery configs (retained) and removes those this box published before that it no
    /// longer has: the broker's retained configs under the box's node id are read for a moment first.
    /// </summary>
    private async Task RunDiscoveryAsync(CancellationToken token)
    {
        if (_discovery is not { } discovery || !_client.IsConnected)
        {
            return;
        }

        try
        {
            lock (_retainedDiscovery)
            {
                _retainedDiscovery.Clear();
            }

            await _client.SubscribeAsync(discovery.OwnFilter, MqttQualityOfServiceLevel.AtLeastOnce, token).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(1.5), token).ConfigureAwait(false);
            await _client.UnsubscribeAsync(discovery.OwnFilter, token).ConfigureAwait(false);
            string[] seen;
            lock (_retainedDiscovery)
            {
                seen = [.. _retainedDiscovery];
            }

            var configs = discovery.Configs().ToList();
            foreach (var (topic, payload) in configs)
            {
                await PublishNowAsync(topic, payload, retain: true).ConfigureAwait(false);
            }

            var stale = discovery.Stale(seen).ToList();
            foreach (var topic in stale)
            {
                await PublishNowAsync(topic, [], retain: true).ConfigureAwait(false);
            }

            _logger.LogInformation("Home Assistant discovery: {Count} sensors published, {Stale} stale ones removed", configs.Count, stale.Count);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            _logger.LogWarning("Home Assistant discovery not published: {Error}", e.Message);
        }
    }

    /// <summary>Receives command messages (topic, payload); set once the pipeline runs.</summary>
    public Func<string, ReadOnlyMemory<byte>, Task>? CommandHandler { get; set; }

    /// <summary>Publishes at once when connected (state echoes, errors, snapshots); dropped when not — they answer a command that arrived over this very connection.</summary>
    public async Task PublishNowAsync(string topic, byte[] payload, bool retain)
    {
        if (!_client.IsConnected)
        {
            return;
        }

        try
        {
            var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(retain);
            await _client.PublishAsync(builder.Build()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            _logger.LogWarning("MQTT: could not publish {Topic}: {Error}", topic, e.Message);
        }
    }

    /// <summary>This start's run id, in every stats payload beside its seq.</summary>
    public string RunId { get; } = StatsPayload.NewRunId();

    /// <summary>Messages dropped because the spool was full or they grew too old while the broker was away.</summary>
    public long Dropped => _spool.Dropped;

    /// <summary>Messages waiting in the spool.</summary>
    public long SpoolDepth => _spool.Depth;

    /// <summary>How long the oldest waiting message has waited.</summary>
    public TimeSpan SpoolOldestAge => _spool.OldestAge;

    public long Published => Interlocked.Read(ref _published);

    /// <summary>Publishes the broker refused (not authorised: an ACL outside the device's prefix, …).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The last refusal, "topic: reason", or null.</summary>
    public string? LastRefusal { get; private set; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>Spools a window for publishing (durably: it survives a crash once this returns); never waits for the network.</summary>
    public void Enqueue(string model, WindowStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        _spool.Enqueue(Topics.Stats(stats.Camera), StatsPayload.Serialize(_deviceId, RunId, model, stats));
    }

    /// <summary>Spools an occupancy event (durably, like a window).</summary>
    public void EnqueueEvent(string camera, Pipeline.Areas.OccupancyEvent occupancy)
    {
        ArgumentNullException.ThrowIfNull(occupancy);
        _spool.Enqueue(Topics.Events(camera), StatsPayload.SerializeEvent(_deviceId, RunId, camera, occupancy));
    }

    /// <summary>Sets the retained health message: published now if connected, else on connecting; never spooled.</summary>
    public void EnqueueRetained(string topic, byte[] payload)
    {
        _health = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithContentType("application/json")
            .WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        if (_client.IsConnected)
        {
            _ = PublishHealthAsync(CancellationToken.None);
        }
    }

    private async Task PublishHealthAsync(CancellationToken token)
    {
        if (!await _healthGate.WaitAsync(0, token).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            if (_health is { } health && _client.IsConnected)
            {
                await _client.PublishAsync(health, token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            _logger.LogDebug("MQTT: health not published ({Error}); it goes out on reconnecting", e.Message);
        }
        finally
        {
            _healthGate.Release();
        }
    }

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
        _spool.Dispose();
        _healthGate.Dispose();
        _commandGate.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A broker that comes back is reached within about a second for the first minute of its absence
        // (then the attempts thin out to 10 s and 30 s, jittered); the delay starts over once connected.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var backoff = new Pipeline.Processing.ReconnectBackoff(() => clock.Elapsed, shortOutageCeiling: TimeSpan.FromSeconds(1));
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
                HealthChanged?.Invoke();
                await PublishHealthAsync(stoppingToken).ConfigureAwait(false);
            }

            try
            {
                var next = await _spool.PeekAsync(stoppingToken).ConfigureAwait(false);
                var result = await _client.PublishAsync(
                    new MqttApplicationMessageBuilder()
                        .WithTopic(next.Topic)
                        .WithPayload(next.Payload)
                        .WithContentType("application/json")
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build(),
                    stoppingToken).ConfigureAwait(false);
                if (result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers)
                {
                    Interlocked.Increment(ref _published);
                }
                else
                {
                    // Retrying cannot help (the broker said no, not "later"): count it, say it once per topic, move on.
                    Interlocked.Increment(ref _refused);
                    LastRefusal = $"{next.Topic}: {result.ReasonCode}";
                    bool first;
                    lock (_refusedTopics)
                    {
                        first = _refusedTopics.Add(next.Topic);
                    }

                    if (first)
                    {
                        _logger.LogError("MQTT: the broker refused a publish to {Topic}: {Reason} {Detail} (check its ACL for this client)", next.Topic, result.ReasonCode, result.ReasonString);
                        HealthChanged?.Invoke();
                    }
                }

                _spool.Acknowledge(next.Id);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
            {
                // The message stays in the spool and goes out after reconnecting.
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
        MqttConnection.Configure(builder, _options, _logger);

        try
        {
            await _client.ConnectAsync(builder.Build(), token).ConfigureAwait(false);
            await _client.PublishAsync(StatusMessage(Online), token).ConfigureAwait(false);
            var subscribe = new MqttClientSubscribeOptionsBuilder();
            foreach (var filter in Topics.CommandFilters)
            {
                subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            await _client.SubscribeAsync(subscribe.Build(), token).ConfigureAwait(false);
            _ = RunDiscoveryAsync(token);
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
