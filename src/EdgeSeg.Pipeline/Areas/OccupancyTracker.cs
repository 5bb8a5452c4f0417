namespace EdgeSeg.Pipeline.Areas;

/// <summary>
/// A condition on one zone: the share of a class or group above <see cref="Above"/> for at least
/// <see cref="MinDuration"/> starts an occupancy ("vehicle share of lane_1 above 0.6 for 10 s" = a queue);
/// it ends once the share has stayed below <see cref="Below"/> (hysteresis) for <see cref="EndDuration"/>.
/// </summary>
public sealed record OccupancyRule(
    string Name,
    int Zone,
    int Series,
    double Above,
    double Below,
    TimeSpan MinDuration,
    TimeSpan EndDuration);

/// <summary>An occupancy starting or ending.</summary>
/// <param name="Rule">The rule that decided it.</param>
/// <param name="ZoneName">The rule's zone.</param>
/// <param name="SeriesName">The class or group whose share is watched.</param>
/// <param name="Kind">"start" or "end".</param>
/// <param name="Since">When the share first crossed <see cref="OccupancyRule.Above"/> (the occupancy's start, also in an end event).</param>
/// <param name="At">When the event was decided (start: after the minimum duration; end: after the end duration).</param>
/// <param name="Until">For an end: when the share first fell below <see cref="OccupancyRule.Below"/> for good; null for a start.</param>
/// <param name="Share">The share at the decisive frame.</param>
/// <param name="PeakShare">The highest share during the occupancy so far.</param>
public sealed record OccupancyEvent(
    OccupancyRule Rule,
    string ZoneName,
    string SeriesName,
    string Kind,
    DateTimeOffset Since,
    DateTimeOffset At,
    DateTimeOffset? Until,
    double Share,
    double PeakShare)
{
    /// <summary>How long the occupancy lasted: to <see cref="Until"/> for an end, to <see cref="At"/> for a start.</summary>
    public TimeSpan Duration => (Until ?? At) - Since;
}

/// <summary>
/// Follows a camera's occupancy rules frame by frame (on the inference thread; nothing allocated per
/// frame except the rare event). A frame-less gap does not change a state: a camera that stops keeps its
/// occupancy until frames say otherwise.
/// </summary>
public sealed class OccupancyTracker
{
    private readonly AreaLayout _layout;
    private readonly State[] _states;

    public OccupancyTracker(AreaLayout layout, IReadOnlyList<OccupancyRule> rules)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(rules);
        foreach (var r in rules)
        {
            if (r.Zone < 0 || r.Zone >= layout.Zones.Count || r.Series < 0 || r.Series >= layout.Series)
            {
                throw new ArgumentException($"occupancy rule '{r.Name}': zone or class out of range", nameof(rules));
            }

            if (!(r.Above is > 0 and <= 1) || !(r.Below >= 0 && r.Below <= r.Above) || r.MinDuration < TimeSpan.Zero || r.EndDuration < TimeSpan.Zero)
            {
                throw new ArgumentException($"occupancy rule '{r.Name}': needs 0 <= Below <= Above <= 1, Above > 0 and durations of 0 or more", nameof(rules));
            }
        }

        _layout = layout;
        Rules = rules;
        _states = new State[rules.Count];
    }

    public IReadOnlyList<OccupancyRule> Rules { get; }

    /// <summary>Whether rule <paramref name="rule"/> is in an occupancy now.</summary>
    public bool IsActive(int rule) => _states[rule].Active;

    /// <summary>
    /// Feeds one frame's values (the layout's vector) taken at <paramref name="at"/>; each event decided is
    /// passed to <paramref name="onEvent"/> with <paramref name="camera"/> (no closure per frame).
    /// </summary>
    public void Update(ReadOnlySpan<double> values, DateTimeOffset at, string camera, Action<string, OccupancyEvent> onEvent)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            ref var s = ref _states[i];
            var share = values[_layout.ShareIndex(rule.Zone + 1, rule.Series)];
            if (!s.Active)
            {
                if (share > rule.Above)
                {
                    if (s.AboveSince is null)
                    {
                        s.AboveSince = at;
                        s.Peak = 0;
                    }

                    s.Peak = Math.Max(s.Peak, share);
                    if (at - s.AboveSince.Value >= rule.MinDuration)
                    {
                        s.Active = true;
                        s.BelowSince = null;
                        onEvent(camera, Make(rule, "start", s.AboveSince.Value, at, null, share, s.Peak));
                    }
                }
                else
                {
                    s.AboveSince = null;
                }

                continue;
            }

            s.Peak = Math.Max(s.Peak, share);
            if (share < rule.Below)
            {
                s.BelowSince ??= at;
                if (at - s.BelowSince.Value >= rule.EndDuration)
                {
                    onEvent(camera, Make(rule, "end", s.AboveSince!.Value, at, s.BelowSince, share, s.Peak));
                    s = default;
                }
            }
            else
            {
                s.BelowSince = null;
            }
        }
    }

    private OccupancyEvent Make(OccupancyRule rule, string kind, DateTimeOffset since, DateTimeOffset at, DateTimeOffset? until, double share, double peak) =>
        new(rule, _layout.Zones[rule.Zone].Name, _layout.SeriesNames[rule.Series], kind, since, at, until, share, peak);

    private struct State
    {
        public bool Active;
        public DateTimeOffset? AboveSince;
        public DateTimeOffset? BelowSince;
        public double Peak;
    }
}
