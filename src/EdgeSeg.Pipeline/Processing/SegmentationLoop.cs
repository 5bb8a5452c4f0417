using System.Diagnostics;
using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Statistics;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>A segmented frame, for observers that want more than window statistics (snapshots, eval).</summary>
public readonly ref struct SegmentedFrame
{
    public SegmentedFrame(CameraChannel camera, VideoFrame frame, LabelMap labels, ReadOnlySpan<double> shares)
    {
        Camera = camera;
        Frame = frame;
        Labels = labels;
        Shares = shares;
    }

    public CameraChannel Camera { get; }

    public VideoFrame Frame { get; }

    /// <summary>Labels at the model's output resolution.</summary>
    public LabelMap Labels { get; }

    public ReadOnlySpan<double> Shares { get; }
}

/// <summary>Receives segmented frames on the inference thread; must return quickly.</summary>
public delegate void SegmentedFrameHandler(in SegmentedFrame frame);

/// <summary>
/// The one inference loop that serves every camera with one model session: it takes the newest frame
/// of each camera in turn (round robin, so a fast camera cannot starve a slow one), segments it,
/// optionally refines it, counts class areas and closes windows. Runs on a thread of its own because
/// a model run blocks for tens of milliseconds. A frame that fails is logged and counted; the loop
/// goes on.
/// </summary>
public sealed class SegmentationLoop
{
    private readonly OnnxSegmenter _segmenter;
    private readonly IReadOnlyList<CameraChannel> _cameras;
    private readonly FrameSignal _signal;
    private readonly Action<WindowStats> _onWindow;
    private readonly ILogger _logger;
    private readonly LabelMap _labels = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<Action> _commands = new();

    public SegmentationLoop(
        OnnxSegmenter segmenter,
        IReadOnlyList<CameraChannel> cameras,
        FrameSignal signal,
        Action<WindowStats> onWindow,
        ILogger logger)
    {
        _segmenter = segmenter;
        _cameras = cameras;
        _signal = signal;
        _onWindow = onWindow;
        _logger = logger;
    }

    /// <summary>Receives occupancy events (camera name, event) on the inference thread.</summary>
    public Action<string, OccupancyEvent>? OccupancyHandler { get; set; }

    private long _heartbeat = Environment.TickCount64;

    /// <summary>
    /// When the loop last went round (milliseconds of <see cref="Environment.TickCount64"/>). It goes round
    /// at least every 200 ms even without frames, so a stale value means the loop is stuck.
    /// </summary>
    public long Heartbeat => Interlocked.Read(ref _heartbeat);

    /// <summary>Called for every segmented frame, after its statistics.</summary>
    public SegmentedFrameHandler? FrameObserver { get; init; }

    /// <summary>Where per-frame latencies are recorded, or null.</summary>
    public PipelineMetrics? Metrics { get; init; }

    /// <summary>Returns when cancelled, or when every camera's source has ended.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Run(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken token)
    {
        var next = 0;
        while (!token.IsCancellationRequested)
        {
            Interlocked.Exchange(ref _heartbeat, Environment.TickCount64);
            while (_commands.TryDequeue(out var command))
            {
                try
                {
                    command();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogError(e, "a live change failed");
                }
            }

            var any = false;
            for (var k = 0; k < _cameras.Count; k++)
            {
                var camera = _cameras[(next + k) % _cameras.Count];
                if (camera.Slot.TryTake(out var frame))
                {
                    any = true;
                    Process(camera, frame);
                }
            }

            next = (next + 1) % _cameras.Count;
            CloseDueWindows();
            if (any)
            {
                continue;
            }

            if (_cameras.All(c => c.Worker.State == CaptureState.Finished))
            {
                return;
            }

            try
            {
                _signal.Wait(TimeSpan.FromMilliseconds(200), token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> on the inference thread before the next frame (live changes touch what it reads).</summary>
    public void Post(Action command)
    {
        _commands.Enqueue(command);
        _signal.Set();
    }

    /// <summary>Closes the windows whose time is up although their camera delivered nothing more.</summary>
    private void CloseDueWindows()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var camera in _cameras)
        {
            if (camera.Accumulator.CloseIfDue(now, camera.Slot.Dropped, camera.RefinementSkips) is { } window)
            {
                _onWindow(Closed(window, camera));
            }
        }
    }

    /// <summary>A window that closed: it gets the camera's state and becomes the camera's newest.</summary>
    private static WindowStats Closed(WindowStats window, CameraChannel camera)
    {
        window.CameraState ??= camera.Worker.State.ToString().ToLowerInvariant();
        camera.RecordWindow(window);
        return window;
    }

    private void Process(CameraChannel camera, VideoFrame frame)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            var segmentation = _segmenter.Infer(frame);
            var inference = Stopwatch.GetElapsedTime(started);
            Metrics?.RecordInference(camera, inference.TotalSeconds);
            var inferenceMs = inference.TotalMilliseconds;
            if (!TryRefine(camera, segmentation))
            {
                segmentation.Decode(_labels);
            }

            var values = camera.Values;
            camera.Counter.Measure(_labels.Labels, _labels.Width, _labels.Height, values);
            var shares = values.AsSpan(0, _segmenter.Model.Labels.Count);
            var now = DateTimeOffset.UtcNow;
            camera.CountProcessed();
            if (camera.Occupancy is { } occupancy && OccupancyHandler is { } handler)
            {
                occupancy.Update(values, now, camera.Name, handler);
            }

            var window = camera.Accumulator.Add(
                values,
                now,
                inferenceMs,
                (now - frame.Timestamp).TotalMilliseconds,
                camera.Slot.Dropped,
                camera.RefinementSkips);
            FrameObserver?.Invoke(new SegmentedFrame(camera, frame, _labels, shares));
            if (camera.TakeSnapshotRequest() is { } snapshot)
            {
                snapshot(new SegmentedFrame(camera, frame, _labels, shares));
            }

            if (window is not null)
            {
                _onWindow(Closed(window, camera));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            camera.CountFailure();
            _logger.LogError(e, "camera {Camera}: frame {Sequence} failed and was dropped", camera.Name, frame.Sequence);
        }
        finally
        {
            camera.Slot.Return(frame);
        }
    }

    /// <summary>
    /// Refines when the camera asks for it. Refinement has the camera's time budget: when it overruns,
    /// the frame is published with its unrefined labels and the skip is counted, so a slow CRF (a busy
    /// board, a larger frame) can never hold the camera back.
    /// </summary>
    private bool TryRefine(CameraChannel camera, Segmentation segmentation)
    {
        if (camera.Refinement is not { } stage || segmentation.Scores.IsEmpty)
        {
            return false;
        }

        var image = segmentation.Input;
        _labels.EnsureSize(image.Width, image.Height);
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(stage.Budget.TotalSeconds * Stopwatch.Frequency);
        var refined = stage.Refiner.TryRefine(segmentation.Scores, image, _labels.Labels, deadline);
        Metrics?.RecordRefinement(camera, Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (refined)
        {
            return true;
        }

        camera.CountSkip();
        return false;
    }
}
