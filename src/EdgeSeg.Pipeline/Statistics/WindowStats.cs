namespace EdgeSeg.Pipeline.Statistics;

/// <summary>Summary of one class's pixel share over a window.</summary>
public readonly record struct ClassShareStats(double Mean, double Min, double Max, double Last);

/// <summary>Summary of a named figure over a window: a class group's share, or square metres of a class or group.</summary>
public readonly record struct NamedStats(string Name, ClassShareStats Stats);

/// <summary>One zone over a window: its share of the frame, and the class and group shares (and square metres) inside it.</summary>
public sealed record ZoneStats(
    string Name,
    double FrameShare,
    IReadOnlyList<ClassShareStats> Classes,
    IReadOnlyList<NamedStats> Groups,
    IReadOnlyList<NamedStats> GroundAreas);

/// <summary>
/// Statistics of one camera over one aggregation window: what the appliance publishes.
/// </summary>
public sealed class WindowStats
{
    public required string Camera { get; init; }

    /// <summary>Window number for this camera, counted from 1; only grows while the process runs.</summary>
    public required long Sequence { get; init; }

    public required DateTimeOffset Start { get; init; }

    public required DateTimeOffset End { get; init; }

    /// <summary>Frames segmented in the window.</summary>
    public required int Frames { get; init; }

    /// <summary>Frames captured but replaced by a newer one before inference took them.</summary>
    public required long DroppedFrames { get; init; }

    /// <summary>Frames whose refinement ran over its time budget and were published unrefined.</summary>
    public long RefinementSkips { get; init; }

    /// <summary>Segmented frames per second over the window.</summary>
    public required double Fps { get; init; }

    /// <summary>Model run time (preprocess + run + decode) percentiles, milliseconds.</summary>
    public required double InferenceP50Ms { get; init; }

    public required double InferenceP95Ms { get; init; }

    /// <summary>Capture-to-statistics latency p50, milliseconds.</summary>
    public required double LatencyP50Ms { get; init; }

    /// <summary>Class names in output order, parallel to <see cref="Classes"/>.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    public required IReadOnlyList<ClassShareStats> Classes { get; init; }

    /// <summary>Class groups' shares of the whole frame, in configuration order.</summary>
    public IReadOnlyList<NamedStats> Groups { get; set; } = [];

    /// <summary>The camera's zones, in configuration order (classes parallel to <see cref="ClassNames"/>).</summary>
    public IReadOnlyList<ZoneStats> Zones { get; set; } = [];

    /// <summary>Square metres on the ground of the whole frame per class or group, when the camera has a ground plane.</summary>
    public IReadOnlyList<NamedStats> GroundAreas { get; set; } = [];

    /// <summary>Share of the frame that has no ground area (above the horizon, or beyond the distance limit); null without a ground plane.</summary>
    public double? GroundExcludedShare { get; set; }

    /// <summary>What the camera was doing when the window closed ("streaming", "reconnecting", …), or null when unknown.</summary>
    public string? CameraState { get; set; }
}
