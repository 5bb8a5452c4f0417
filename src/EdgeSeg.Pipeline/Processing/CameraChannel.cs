using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>Turns a score map and its frame into refined labels (the CRF stage).</summary>
public interface ILabelRefiner
{
    /// <summary>
    /// Writes labels at the image's size (<paramref name="labels"/> holds at least width×height) from
    /// <paramref name="scores"/> guided by <paramref name="image"/>. Returns false when
    /// <paramref name="deadline"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp) passed before
    /// the refinement was complete; the labels are then not to be used.
    /// </summary>
    bool TryRefine(ScoreMap scores, BgrImage image, Span<byte> labels, long deadline);
}

/// <summary>An optional refiner with the time it may take per frame.</summary>
public sealed record RefinementStage(ILabelRefiner Refiner, TimeSpan Budget);

/// <summary>
/// One camera as the inference loop sees it: its frame slot, capture worker, window accumulator and
/// optional refinement, with the counters that are published about it.
/// </summary>
public sealed class CameraChannel : IDisposable
{
    private long _skips;
    private long _failures;
    private long _processed;
    private long _lastProcessedAt;
    private WindowStats? _lastWindow;

    public CameraChannel(
        string name, FrameSlot slot, CaptureWorker worker, ClassAreaAccumulator accumulator, RefinementStage? refinement,
        AreaCounter? counter = null, OccupancyTracker? occupancy = null)
    {
        Name = name;
        Tag = new("camera", name);
        Slot = slot;
        Worker = worker;
        Accumulator = accumulator;
        Refinement = refinement;
        Counter = counter ?? accumulator.Counter ?? new AreaCounter(accumulator.Layout);
        Occupancy = occupancy;
        Values = new double[accumulator.Layout.ValueCount];
    }

    /// <summary>What is measured per frame (zones, groups, ground areas) and how.</summary>
    public AreaCounter Counter { get; }

    /// <summary>The camera's occupancy rules, or null.</summary>
    public OccupancyTracker? Occupancy { get; }

    /// <summary>The current frame's values (inference thread only).</summary>
    internal double[] Values { get; }

    public string Name { get; }

    /// <summary>The camera as a metric tag, made once so that recording a measurement allocates nothing.</summary>
    public KeyValuePair<string, object?> Tag { get; }

    public FrameSlot Slot { get; }

    public CaptureWorker Worker { get; }

    public ClassAreaAccumulator Accumulator { get; }

    /// <summary>The refinement stage; replaced on the inference thread only (<see cref="SegmentationPipeline.Post"/>).</summary>
    public RefinementStage? Refinement { get; internal set; }

    /// <summary>Frames published unrefined because refinement ran over its budget.</summary>
    public long RefinementSkips => Interlocked.Read(ref _skips);

    /// <summary>Frames that failed inference (logged and dropped).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Frames segmented.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>When a frame of this camera was last segmented (<see cref="Environment.TickCount64"/> ms), or null before the first.</summary>
    public long? LastProcessedAt => Interlocked.Read(ref _lastProcessedAt) is var t and not 0 ? t : null;

    /// <summary>The newest closed window (what was last published about this camera), or null before the first.</summary>
    public WindowStats? LastWindow => Volatile.Read(ref _lastWindow);

    private SegmentedFrameHandler? _snapshot;

    /// <summary>
    /// Asks for the next segmented frame of this camera to be handed to <paramref name="handler"/> (on the
    /// inference thread). Requests made before that frame are all served by it: none replaces another.
    /// </summary>
    public void RequestSnapshot(SegmentedFrameHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        SegmentedFrameHandler? current, combined;
        do
        {
            current = Volatile.Read(ref _snapshot);
            combined = (SegmentedFrameHandler)Delegate.Combine(current, handler);
        }
        while (Interlocked.CompareExchange(ref _snapshot, combined, current) != current);
    }

    internal SegmentedFrameHandler? TakeSnapshotRequest() => Interlocked.Exchange(ref _snapshot, null);

    internal void RecordWindow(WindowStats window) => Volatile.Write(ref _lastWindow, window);

    internal void CountSkip() => Interlocked.Increment(ref _skips);

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    internal void CountProcessed()
    {
        Interlocked.Increment(ref _processed);
        Interlocked.Exchange(ref _lastProcessedAt, Environment.TickCount64);
    }

    public void Dispose() => Worker.Dispose();
}
