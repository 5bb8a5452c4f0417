using System.Diagnostics;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Statistics;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>A camera to run: its name, source URI, frame-rate limit and optional refinement.</summary>
public sealed record CameraDefinition(string Name, string Source, double? MaxFps = null, RefinementStage? Refinement = null);

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
            var paced = SourceUri.Parse(camera.Source).Scheme is "file" or "synthetic";
            var worker = new CaptureWorker(
                camera.Name,
                () => FrameSourceFactory.Open(camera.Source, baseDirectory),
                slot,
                camera.MaxFps,
                paced,
                captureLogger);
            worker.Finished += _signal.Set;
            var accumulator = new ClassAreaAccumulator(camera.Name, segmenter.Model.Labels.ClassNames, window);
            _cameras.Add(new CameraChannel(camera.Name, slot, worker, accumulator, camera.Refinement));
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
