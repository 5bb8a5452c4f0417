namespace EdgeSeg.Pipeline.Processing;

/// <summary>
/// How long a camera waits before reopening its source. Short blips must heal in seconds and a camera
/// that is gone for hours must not spawn a decoder every second, so the ceiling grows with the outage:
/// delays start at <see cref="First"/> and double, capped at 2 s during the first minute of an outage,
/// 10 s up to ten minutes, 30 s beyond; each is jittered by ±20 % so that the cameras of a box that lost
/// its switch do not all reconnect in the same instant. The outage — and the doubling — end only when
/// the source delivers a frame: an open that is cut before its first frame is one more short failure.
/// Not thread-safe: one per capture thread.
/// </summary>
/// <param name="clock">Monotonic time.</param>
/// <param name="random">Jitter source (seeded in tests).</param>
/// <param name="shortOutageCeiling">The cap during an outage's first minute (default 1 s: a camera back from a short cut is read again within about 2.5 s).</param>
public sealed class ReconnectBackoff(Func<TimeSpan> clock, Random? random = null, TimeSpan? shortOutageCeiling = null)
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);

    private readonly Random _random = random ?? new Random();
    private TimeSpan? _outageStart;
    private TimeSpan _next = First;

    /// <summary>How long the current outage has lasted (zero while streaming).</summary>
    public TimeSpan Outage => _outageStart is { } start ? clock() - start : TimeSpan.Zero;

    /// <summary>The ceiling for a delay after an outage of <paramref name="outage"/>.</summary>
    public TimeSpan Ceiling(TimeSpan outage) =>
        outage < TimeSpan.FromMinutes(1) ? shortOutageCeiling ?? TimeSpan.FromSeconds(1)
        : outage < TimeSpan.FromMinutes(10) ? TimeSpan.FromSeconds(10)
        : TimeSpan.FromSeconds(30);

    /// <summary>Records a failure and returns how long to wait before the next attempt.</summary>
    public TimeSpan Failed()
    {
        _outageStart ??= clock();
        var delay = _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, Ceiling(Outage).Ticks));
        var jitter = 0.8 + (0.4 * _random.NextDouble());
        return TimeSpan.FromTicks((long)(Math.Min(delay.Ticks, Ceiling(Outage).Ticks) * jitter));
    }

    /// <summary>The source delivered a frame: the outage is over.</summary>
    public void Delivered()
    {
        _outageStart = null;
        _next = First;
    }
}
