using System.Buffers;
using System.Text.Json;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Service.Hosting;

/// <summary>
/// The appliance's main job as a hosted service: every configured camera through the shared model into
/// the MQTT spool, plus a retained health message. Stops the host when every source has ended (finite
/// files); otherwise runs until the host stops.
/// </summary>
internal sealed class SegmentationService : BackgroundService
{
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(30);

    private readonly LoadedConfiguration _config;
    private readonly OnnxSegmenter _segmenter;
    private readonly MqttStatsPublisher _publisher;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<SegmentationService> _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly CameraStages _stages;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly PipelineHeartbeat _heartbeat;
    private readonly LiveCameras _live;
    private readonly ServiceMetrics _metrics;

    public SegmentationService(
        LoadedConfiguration config,
        OnnxSegmenter segmenter,
        MqttStatsPublisher publisher,
        ILoggerFactory loggers,
        IHostApplicationLifetime lifetime,
        CameraStages stages,
        PipelineHeartbeat heartbeat,
        LiveCameras live,
        ServiceMetrics metrics)
    {
        _heartbeat = heartbeat;
        _live = live;
        _metrics = metrics;
        _config = config;
        _segmenter = segmenter;
        _publisher = publisher;
        _loggers = loggers;
        _logger = loggers.CreateLogger<SegmentationService>();
        _lifetime = lifetime;
        _stages = stages;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _config.Options;
        var window = options.Statistics.WindowFrames > 0
            ? WindowPolicy.Frames(options.Statistics.WindowFrames)
            : WindowPolicy.Seconds(options.Statistics.WindowSeconds);
        var cameras = _stages.Definitions;
        var model = _segmenter.Model.Name;
        foreach (var attempt in _segmenter.ProviderAttempts)
        {
            _logger.LogInformation("execution provider {Attempt}", attempt);
        }

        _logger.LogInformation(
            "model {Model} on {Provider}; {Count} camera(s): {Cameras}",
            _segmenter.Model, _segmenter.Provider, cameras.Count, string.Join(", ", cameras.Select(c => c.Name)));

        using var pipeline = new SegmentationPipeline(
            _segmenter, cameras, window, w => _publisher.Enqueue(model, w), _loggers, _config.BaseDirectory, metrics: _metrics.Pipeline);
        pipeline.OccupancyHandler = (camera, e) =>
        {
            _logger.LogInformation(
                "camera {Camera}: occupancy {Rule} of zone {Zone} {Kind} ({Class} share {Share:0.###}, {Duration:0.#} s)",
                camera, e.Rule.Name, e.ZoneName, e.Kind == "start" ? "started" : "ended", e.SeriesName, e.Share, e.Duration.TotalSeconds);
            _publisher.EnqueueEvent(camera, e);
        };
        using var healthStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var health = PublishHealthAsync(pipeline, healthStop.Token);
        _heartbeat.Attach(() => pipeline.Heartbeat, () => pipeline.LastFrame);
        _live.Attach(pipeline.Cameras, _segmenter.Model.Labels);

        // Health made while the broker was away says so: a fresh one goes out as soon as it is back, and
        // as soon as the broker refuses a topic.
        void OnCameraState(CaptureWorker worker) => _ = _publisher.PublishNowAsync(_publisher.Topics.CameraStatus(worker.Camera), CameraStatus(worker), retain: true);
        void OnConnected()
        {
            PublishHealth(pipeline);
            foreach (var camera in pipeline.Cameras)
            {
                OnCameraState(camera.Worker);
            }
        }

        foreach (var camera in pipeline.Cameras)
        {
            camera.Worker.StateChanged += OnCameraState;
        }

        _publisher.HealthChanged += OnConnected;
        if (_publisher.IsConnected)
        {
            // Connected before this service subscribed: what the connection would have sent, send now.
            OnConnected();
        }

        using var remote = new RemoteControl(pipeline, _publisher, _config.Options.Cameras, _live, _loggers.CreateLogger<RemoteControl>());
        _publisher.CommandHandler = remote.HandleAsync;
        if (_config.Options.HomeAssistant.Enabled)
        {
            var groups = _config.Options.Statistics.ClassGroups.Keys.Order(StringComparer.Ordinal).ToList();
            var unknown = _config.Options.HomeAssistant.Classes.Where(c => !_segmenter.Model.Labels.ClassNames.Contains(c) && !groups.Contains(c)).ToList();
            if (unknown.Count > 0)
            {
                _logger.LogWarning(
                    "HomeAssistant.Classes: {Unknown} not classes of {Model} (it has {Classes}); no sensors for them",
                    string.Join(", ", unknown), _segmenter.Model.Name, string.Join(", ", _segmenter.Model.Labels.ClassNames));
            }

            _publisher.SetDiscovery(new HomeAssistantDiscovery(
                _config.Options.HomeAssistant, _publisher.Topics, _config.Options.DeviceId, _segmenter.Model.Name,
                [.. pipeline.Cameras.Select(c => c.Name)], _segmenter.Model.Labels.ClassNames, groups));
        }
        try
        {
            await pipeline.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _publisher.HealthChanged -= OnConnected;
            foreach (var camera in pipeline.Cameras)
            {
                camera.Worker.StateChanged -= OnCameraState;
            }

            _publisher.CommandHandler = null;
            _heartbeat.Detach();
            _live.Detach();
            PublishHealth(pipeline);
            await healthStop.CancelAsync().ConfigureAwait(false);
            await health.ConfigureAwait(false);
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            _logger.LogInformation("every source has ended; stopping");
            _lifetime.StopApplication();
        }
    }

    private async Task PublishHealthAsync(SegmentationPipeline pipeline, CancellationToken token)
    {
        using var timer = new PeriodicTimer(HealthInterval);
        try
        {
            do
            {
                PublishHealth(pipeline);
            }
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static byte[] CameraStatus(CaptureWorker worker)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("state", worker.State.ToString().ToLowerInvariant());
            w.WriteString("since", StatsPayload.Iso(worker.StateSince));
            if (worker.LastError is { } error)
            {
                w.WriteString("last_error", error);
            }

            w.WriteNumber("reconnects", worker.Reconnects);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void PublishHealth(SegmentationPipeline pipeline)
    {
        var publisher = new PublisherHealth(
            _publisher.IsConnected, _publisher.SpoolDepth, _publisher.SpoolOldestAge, _publisher.Dropped,
            _publisher.Published, _publisher.Refused, _publisher.LastRefusal);
        var cameras = pipeline.Cameras.Select(c => new CameraHealth(
            c.Name, c.Worker.State, c.Worker.Captured, c.Processed, c.Slot.Dropped, c.Failures, c.Worker.Reconnects,
            c.RefinementSkips, c.Worker.LastError));
        _publisher.EnqueueRetained(
            _publisher.Topics.Health,
            HealthPayload.Serialize(DateTimeOffset.UtcNow, _started, _segmenter.Model.Name, _segmenter.Provider, publisher, cameras));
    }
}

/// <summary>
/// The pipeline's definition of every configured camera, in the order of the configuration: its source
/// and rate limit, its refinement stage (null: none; the refiners are owned here) and what it measures
/// (zones, class groups, ground plane, occupancy rules). Built once, by <c>AppStartup.Cameras</c>.
/// </summary>
internal sealed class CameraStages(IReadOnlyList<CameraDefinition> definitions) : IDisposable
{
    public IReadOnlyList<CameraDefinition> Definitions { get; } = definitions;

    public void Dispose()
    {
        foreach (var camera in Definitions)
        {
            (camera.Refinement?.Refiner as IDisposable)?.Dispose();
        }
    }
}
