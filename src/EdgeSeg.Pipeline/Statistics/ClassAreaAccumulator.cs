using EdgeSeg.Pipeline.Areas;

namespace EdgeSeg.Pipeline.Statistics;

/// <summary>When an aggregation window closes: after a duration, or after a number of frames.</summary>
public readonly record struct WindowPolicy(TimeSpan? Duration, int? FrameCount)
{
    public static WindowPolicy Seconds(double seconds) => new(TimeSpan.FromSeconds(seconds), null);

    public static WindowPolicy Frames(int frames) => new(null, frames);
}

/// <summary>
/// Aggregates the per-frame values of one camera into windows (mean, min, max, last of every class share,
/// and, with an <see cref="AreaLayout"/>, of every group share, zone share and square-metre figure;
/// frame and drop counts; fps; latency percentiles). Allocation happens once per window, never per frame.
/// </summary>
public sealed class ClassAreaAccumulator
{
    private const int MaxLatencySamples = 8192;

    private readonly string _camera;
    private readonly IReadOnlyList<string> _classNames;
    private readonly AreaLayout _layout;
    private WindowPolicy _policy;
    private readonly double[] _sum;
    private readonly double[] _min;
    private readonly double[] _max;
    private readonly double[] _last;
    private readonly double[] _inferenceMs = new double[MaxLatencySamples];
    private readonly double[] _latencyMs = new double[MaxLatencySamples];
    private int _frames;
    private long _sequence;
    private DateTimeOffset _start;
    private long _droppedAtStart;
    private long _skipsAtStart;
    private DateTimeOffset _lastEnd = DateTimeOffset.MinValue;

    public ClassAreaAccumulator(string camera, IReadOnlyList<string> classNames, WindowPolicy policy)
        : this(camera, AreaLayout.ClassesOnly(classNames ?? throw new ArgumentNullException(nameof(classNames))), policy)
    {
    }

    /// <summary>An accumulator of every value of <paramref name="layout"/> (see <see cref="Add"/>).</summary>
    public ClassAreaAccumulator(string camera, AreaLayout layout, WindowPolicy policy)
    {
        ArgumentException.ThrowIfNullOrEmpty(camera);
        ArgumentNullException.ThrowIfNull(layout);
        var classNames = layout.ClassNames;
        if (policy.Duration is null == policy.FrameCount is null)
        {
            throw new ArgumentException("a window is closed by a duration or by a frame count, exactly one of them", nameof(policy));
        }

        if (policy.Duration is { } d && d <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(policy), "window duration must be positive");
        }

        if (policy.FrameCount is { } f && f <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(policy), "window frame count must be positive");
        }

        _camera = camera;
        _classNames = classNames;
        _layout = layout;
        _policy = policy;
        _sum = new double[layout.ValueCount];
        _min = new double[layout.ValueCount];
        _max = new double[layout.ValueCount];
        _last = new double[layout.ValueCount];
        Reset(DateTimeOffset.MinValue, 0, 0);
    }

    /// <summary>When windows close; a change applies to the window already open.</summary>
    public WindowPolicy Policy
    {
        get => _policy;
        set
        {
            if (value.Duration is null == value.FrameCount is null || value.Duration <= TimeSpan.Zero || value.FrameCount <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "a window is closed by a positive duration or a positive frame count, exactly one");
            }

            _policy = value;
        }
    }

    /// <summary>Frames in the current, still open window.</summary>
    public int FramesInWindow => _frames;

    public AreaLayout Layout => _layout;

    /// <summary>Each zone's share of the frame and the share without ground area, as the camera's counter last saw them.</summary>
    public AreaCounter? Counter { get; init; }

    /// <summary>
    /// Adds one frame: <paramref name="shares"/> holds the frame's values in the layout's order (without
    /// zones, groups or ground: the class shares). <paramref name="droppedTotal"/> and <paramref name="skipsTotal"/> are the camera's
    /// running counters; the window reports their increase. Returns the closed window when this frame
    /// completes one, else null.
    /// </summary>
    public WindowStats? Add(
        ReadOnlySpan<double> shares,
        DateTimeOffset now,
        double inferenceMs,
        double latencyMs,
        long droppedTotal,
        long skipsTotal = 0)
    {
        if (shares.Length != _sum.Length)
        {
            throw new ArgumentException($"{shares.Length} values for a layout of {_sum.Length}", nameof(shares));
        }

        if (_frames == 0)
        {
            // Counters are not reset here: drops and skips since the last window (this frame's included) belong to this one.
            _start = now;
        }

        for (var c = 0; c < shares.Length; c++)
        {
            var s = shares[c];
            _sum[c] += s;
            _min[c] = Math.Min(_min[c], s);
            _max[c] = Math.Max(_max[c], s);
            _last[c] = s;
        }

        if (_frames < MaxLatencySamples)
        {
            _inferenceMs[_frames] = inferenceMs;
            _latencyMs[_frames] = latencyMs;
        }

        _frames++;
        var closes = _policy.FrameCount is { } n ? _frames >= n : now - _start >= _policy.Duration!.Value;
        return closes ? Close(now, droppedTotal, skipsTotal) : null;
    }

    /// <summary>
    /// For windows by duration: closes the window on time even when frames stop coming. A window with
    /// frames closes once its duration has passed since its first frame; with none, once the duration has
    /// passed since the last window ended (or since the first call), as an empty window — frames 0, fps 0,
    /// every share 0 — so that subscribers see a dead camera as zeros, not as silence. The window after
    /// such an outage starts with its first frame, so it covers only the time since recovery. Call it
    /// regularly (the inference loop does, at least every 200 ms); null when nothing closes.
    /// </summary>
    public WindowStats? CloseIfDue(DateTimeOffset now, long droppedTotal, long skipsTotal = 0)
    {
        if (_policy.Duration is not { } duration)
        {
            return null;
        }

        if (_lastEnd == DateTimeOffset.MinValue)
        {
            _lastEnd = now;
        }

        if (_frames > 0)
        {
            return now - _start >= duration ? Close(now, droppedTotal, skipsTotal) : null;
        }

        return now - _lastEnd >= duration ? CloseEmpty(now, droppedTotal, skipsTotal) : null;
    }

    private WindowStats CloseEmpty(DateTimeOffset now, long droppedTotal, long skipsTotal)
    {
        var stats = new WindowStats
        {
            Camera = _camera,
            Sequence = ++_sequence,
            Start = _lastEnd,
            End = now,
            Frames = 0,
            DroppedFrames = droppedTotal - _droppedAtStart,
            RefinementSkips = skipsTotal - _skipsAtStart,
            Fps = 0,
            InferenceP50Ms = 0,
            InferenceP95Ms = 0,
            LatencyP50Ms = 0,
            ClassNames = _classNames,
            Classes = new ClassShareStats[_classNames.Count],
        };
        Describe(stats, (_, _) => default);
        _lastEnd = now;
        Reset(DateTimeOffset.MinValue, droppedTotal, skipsTotal);
        return stats;
    }

    private WindowStats Close(DateTimeOffset now, long droppedTotal, long skipsTotal)
    {
        _lastEnd = now;
        var classes = new ClassShareStats[_classNames.Count];
        for (var c = 0; c < classes.Length; c++)
        {
            classes[c] = StatsAt(c);
        }

        var samples = Math.Min(_frames, MaxLatencySamples);
        var elapsed = (now - _start).TotalSeconds;
        var stats = new WindowStats
        {
            Camera = _camera,
            Sequence = ++_sequence,
            Start = _start,
            End = now,
            Frames = _frames,
            DroppedFrames = droppedTotal - _droppedAtStart,
            RefinementSkips = skipsTotal - _skipsAtStart,
            // A window of one frame has no duration; its rate is unknown rather than infinite.
            Fps = elapsed > 0 ? (_frames - 1) / elapsed : 0,
            InferenceP50Ms = Percentile(_inferenceMs.AsSpan(0, samples), 0.50),
            InferenceP95Ms = Percentile(_inferenceMs.AsSpan(0, samples), 0.95),
            LatencyP50Ms = Percentile(_latencyMs.AsSpan(0, samples), 0.50),
            ClassNames = _classNames,
            Classes = classes,
        };
        Describe(stats, (region, series) => StatsAt(_layout.ShareIndex(region, series)), (region, series) => StatsAt(_layout.AreaIndex(region, series)));
        Reset(DateTimeOffset.MinValue, droppedTotal, skipsTotal);
        return stats;
    }

    private ClassShareStats StatsAt(int i) => new(_sum[i] / _frames, _min[i], _max[i], _last[i]);

    /// <summary>Adds the groups, zones and ground areas of the layout to a closing window.</summary>
    private void Describe(WindowStats stats, Func<int, int, ClassShareStats> share, Func<int, int, ClassShareStats>? area = null)
    {
        area ??= share;
        var layout = _layout;
        IReadOnlyList<NamedStats> Groups(int region) =>
            [.. layout.Groups.Select((g, i) => new NamedStats(g.Name, share(region, layout.Classes + i)))];
        IReadOnlyList<NamedStats> Areas(int region) =>
            layout.Ground is null ? [] : [.. layout.GroundSeries.Select(s => new NamedStats(layout.SeriesNames[s], area(region, s)))];
        stats.Groups = Groups(0);
        stats.GroundAreas = Areas(0);
        stats.GroundExcludedShare = layout.Ground is null ? null : Counter?.GroundExcludedShare;
        var frameShares = Counter?.ZoneFrameShares ?? [];
        stats.Zones = [.. layout.Zones.Select((z, i) => new ZoneStats(
            z.Name,
            i < frameShares.Count ? frameShares[i] : 0,
            [.. Enumerable.Range(0, layout.Classes).Select(c => share(i + 1, c))],
            Groups(i + 1),
            Areas(i + 1)))];
    }

    /// <summary>Nearest-rank percentile (sorts the samples in place).</summary>
    internal static double Percentile(Span<double> samples, double p)
    {
        if (samples.IsEmpty)
        {
            return 0;
        }

        samples.Sort();
        var rank = (int)Math.Ceiling(p * samples.Length) - 1;
        return samples[Math.Clamp(rank, 0, samples.Length - 1)];
    }

    private void Reset(DateTimeOffset start, long droppedTotal, long skipsTotal)
    {
        _frames = 0;
        _start = start;
        _droppedAtStart = droppedTotal;
        _skipsAtStart = skipsTotal;
        Array.Clear(_sum);
        Array.Fill(_min, double.MaxValue);
        Array.Fill(_max, double.MinValue);
        Array.Clear(_last);
    }
}
