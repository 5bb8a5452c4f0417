using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>Turns a score map and its frame into refined labels (the CRF stage).</summary>
public interface ILabelRefiner
{
    /// <summary>
    /// Writes labels at width×height from <paramref name="scores"/> (C×h×w logits) guided by the BGR image.
    /// Returns false when <paramref name="deadline"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp)
    /// passed before the refinement was complete; the labels are then not to be used.
    /// </summary>
    bool TryRefine(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, ReadOnlySpan<byte> imageBgr,
        int width, int height, Span<byte> labels, long deadline);
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

    public CameraChannel(
        string name, FrameSlot slot, CaptureWorker worker, ClassAreaAccumulator accumulator, RefinementStage? refinement,
        AreaCounter? counter = null, OccupancyTracker? occupancy = null)
    {
        Name = name;
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

    private SegmentedFrameHandler? _snapshot;

    /// <summary>Asks for the next segmented frame of this camera to be handed to <paramref name="handler"/> (on the inference thread).</summary>
    public void RequestSnapshot(SegmentedFrameHandler handler) => Volatile.Write(ref _snapshot, handler);

    internal SegmentedFrameHandler? TakeSnapshotRequest() => Interlocked.Exchange(ref _snapshot, null);

    internal void CountSkip() => Interlocked.Increment(ref _skips);

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    internal void CountProcessed() => Interlocked.Increment(ref _processed);

    public void Dispose() => Worker.Dispose();
}
