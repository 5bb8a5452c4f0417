using System.Diagnostics;
using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Statistics;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>A camera to run: its name, source URI, frame-rate limit, optional refinement and what it measures besides class shares.</summary>
public sealed record CameraDefinition(
    string Name, string Source, double? MaxFps = null, RefinementStage? Refinement = null, CameraAreas? Areas = null);

/// <summary>A camera's zones, class groups and ground plane (its layout), and its occupancy rules.</summary>
public sealed record CameraAreas(AreaLayout Layout, IReadOnlyList<OccupancyRule> Occupancy);

/// <summary>
/// Wires cameras to one shared model: a capture thread per camera, one inference loop, a window
/// accumulator per camera. Windows are handed to <c>onWindow</c> on the inference thread; the handler
/// must not block (queue the work).
/// </summary>
public sealed class SegmentationPipeline : IDisposable
{
    private readonly FrameSignal _signal = new();
    private readonly List<CameraChannel> _cameras = [];
    private readonly SegmentationLoop _loop;
    private readonly PipelineMetrics? _metrics;

    public SegmentationPipeline(
        OnnxSegmenter segmenter,
        IEnumerable<CameraDefinition> cameras,
        WindowPolicy window,
        Action<WindowStats> onWindow,
        ILoggerFactory loggers,
        string? baseDirectory = null,
        SegmentedFrameHandler? frameObserver = null,
        PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(segmenter);
        ArgumentNullException.ThrowIfNull(cameras);
        ArgumentNullException.ThrowIfNull(loggers);
        var captureLogger = loggers.CreateLogger<CaptureWorker>();
        foreach (var camera in cameras)
        {
            var slot = new FrameSlot(_signal);
            var worker = new CaptureWorker(
                camera.Name,
                () => FrameSourceFactory.Open(camera.Source, baseDirectory),
                slot,
                camera.MaxFps,
                captureLogger);
            worker.Finished += _signal.Set;
            var layout = camera.Areas?.Layout ?? AreaLayout.ClassesOnly(segmenter.Model.Labels.ClassNames);
            if (layout.Classes != segmenter.Model.Labels.Count)
            {
                throw new ArgumentException($"camera {camera.Name}: its layout has {layout.Classes} classes, the model {segmenter.Model.Labels.Count}", nameof(cameras));
            }

            var counter = new AreaCounter(layout);
            var accumulator = new ClassAreaAccumulator(camera.Name, layout, window) { Counter = counter };
            var occupancy = camera.Areas is { Occupancy.Count: > 0 } areas ? new OccupancyTracker(layout, areas.Occupancy) : null;
            _cameras.Add(new CameraChannel(camera.Name, slot, worker, accumulator, camera.Refinement, counter, occupancy));
        }

        if (_cameras.Count == 0)
        {
            throw new ArgumentException("at least one camera is needed", nameof(cameras));
        }

        _loop = new SegmentationLoop(segmenter, _cameras, _signal, onWindow, loggers.CreateLogger<SegmentationLoop>())
        {
            FrameObserver = frameObserver,
            Metrics = metrics,
        };
        _metrics = metrics;
        metrics?.Attach(_cameras);
    }

    public IReadOnlyList<CameraChannel> Cameras => _cameras;

    /// <summary>Receives occupancy events (camera name, event) on the inference thread; must not block.</summary>
    public Action<string, OccupancyEvent>? OccupancyHandler
    {
        get => _loop.OccupancyHandler;
        set => _loop.OccupancyHandler = value;
    }

    /// <summary>Runs <paramref name="command"/> on the inference thread before its next frame: the one safe place to change what it reads.</summary>
    public void Post(Action command) => _loop.Post(command);

    /// <summary>Replaces a camera's refinement stage (null: none) on the inference thread. The caller owns the refiners, old and new.</summary>
    public void SetRefinement(CameraChannel camera, RefinementStage? stage)
    {
        ArgumentNullException.ThrowIfNull(camera);
        Post(() => camera.Refinement = stage);
    }

    /// <summary>When the inference loop last went round (<see cref="Environment.TickCount64"/> ms).</summary>
    public long Heartbeat => _loop.Heartbeat;

    /// <summary>When any camera's frame was last segmented (<see cref="Environment.TickCount64"/> ms), or null before the first.</summary>
    public long? LastFrame => _cameras.Max(c => c.LastProcessedAt);

    /// <summary>Starts capture and runs inference until cancelled or every source has ended.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (var camera in _cameras)
        {
            camera.Worker.Start();
        }

        try
        {
            await _loop.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Every camera is told to stop first, then all are waited for against one deadline: three
            // stalled cameras take 5 s to stop, not 15 s (which would overrun the host's shutdown timeout).
            foreach (var camera in _cameras)
            {
                camera.Worker.RequestStop();
            }

            var deadline = Stopwatch.StartNew();
            foreach (var camera in _cameras)
            {
                camera.Worker.Join(TimeSpan.FromTicks(Math.Max(0, TimeSpan.FromSeconds(5).Ticks - deadline.Elapsed.Ticks)));
            }
        }
    }

    public void Dispose()
    {
        _metrics?.Detach(_cameras);
        foreach (var camera in _cameras)
        {
            camera.Dispose();
        }

        _signal.Dispose();
    }
}
