using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Pipeline.Tests.Areas;

/// <summary>Occupancy events on a scripted queue, with the renderer's exact labels.</summary>
public sealed class OccupancyTests
{
    private static readonly string[] Classes =
    [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
        "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ];

    private static readonly ClassGroup Vehicle = new("vehicle", [13, 14, 15, 17, 18]);

    /// <summary>The lane behind the stop line, 12 m deep (starting where the image does, if that is farther), as a zone in the image.</summary>
    private static Zone LaneZone(SyntheticFrameSource source)
    {
        var q = source.Queue!;
        var g = source.Ground;
        var near = q.Front + 0.5;
        while (g.ToImage(0, near, source.Width, source.Height).Y > 0.98)
        {
            near += 0.5;
        }

        var far = near + 12;
        RelativePoint At(double x, double y)
        {
            var p = g.ToImage(x, y, source.Width, source.Height);
            return new RelativePoint(Math.Clamp(p.X, 0, 1), Math.Clamp(p.Y, 0, 1));
        }

        return new Zone("lane", [At(q.Left + 0.3, near), At(q.Right - 0.3, near), At(q.Right - 0.3, far), At(q.Left + 0.3, far)]);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(21)]
    public void A_queue_that_forms_and_dissolves_gives_one_start_and_one_end_with_its_duration(int seed)
    {
        const double Forms = 4, Dissolves = 16, Window = 5;
        using var source = new SyntheticFrameSource(seed, 512, 256, 5, new QueueScript(Forms, Dissolves));
        var layout = new AreaLayout(Classes, [Vehicle], [LaneZone(source)]);
        var rule = new OccupancyRule("queue", 0, layout.SeriesIndex("vehicle"), 0.5, 0.3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        var tracker = new OccupancyTracker(layout, [rule]);
        var counter = new AreaCounter(layout);
        var values = new double[layout.ValueCount];
        var frame = new VideoFrame();
        var labels = new LabelMap();
        var events = new List<OccupancyEvent>();
        var peak = 0.0;
        for (var i = 0; i < 5 * 26; i++)
        {
            source.Read(frame, labels);
            counter.Measure(labels.Labels, labels.Width, labels.Height, values);
            peak = Math.Max(peak, values[layout.ShareIndex(1, 13)]);
            // Stream time: the frame's place in the stream at the source's rate (a worker would stamp wall time).
            tracker.Update(values, DateTimeOffset.UnixEpoch + TimeSpan.FromSeconds(frame.Sequence / source.NominalFps!.Value), "cam", (_, e) => events.Add(e));
        }

        Assert.True(events.Count == 2, $"seed {seed}: {events.Count} events ({string.Join("; ", events.Select(e => $"{e.Kind} {e.Since:ss.f}-{e.Until:ss.f}"))}), peak car share {peak:0.##}");
        Assert.Equal(["start", "end"], events.Select(e => e.Kind));
        var start = events[0];
        var end = events[1];
        Assert.Equal("lane", end.ZoneName);
        Assert.Equal("vehicle", end.SeriesName);
        Assert.Equal(start.Since, end.Since);
        Assert.True(start.Duration >= rule.MinDuration);
        // The queue stands from Forms to Dissolves (its first car arrives and leaves then).
        var truth = Dissolves - Forms;
        Assert.True(Math.Abs(end.Duration.TotalSeconds - truth) <= Window, $"seed {seed}: lasted {end.Duration.TotalSeconds:0.##} s, truth {truth} s");
        Assert.True(Math.Abs((start.Since - DateTimeOffset.UnixEpoch).TotalSeconds - Forms) <= Window);
        Assert.InRange(end.PeakShare, 0.5, 1);
    }

    [Fact]
    public void Flicker_shorter_than_the_minimum_duration_starts_nothing_and_hysteresis_holds_an_occupancy()
    {
        var layout = new AreaLayout(["road", "car"], zones: [new Zone("z", [new(0, 0), new(1, 0), new(1, 1)])]);
        var tracker = new OccupancyTracker(layout, [new OccupancyRule("busy", 0, 1, 0.6, 0.4, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1))]);
        var events = new List<OccupancyEvent>();
        var t = DateTimeOffset.UnixEpoch;
        void Feed(double carShare, int seconds)
        {
            for (var s = 0; s < seconds * 2; s++)
            {
                var values = new double[layout.ValueCount];
                values[layout.ShareIndex(1, 1)] = carShare;
                tracker.Update(values, t, "cam", (_, e) => events.Add(e));
                t += TimeSpan.FromSeconds(0.5);
            }
        }

        Feed(0.9, 2);   // 2 s above: shorter than 3 s
        Feed(0.1, 2);
        Assert.Empty(events);
        Feed(0.9, 4);   // starts after 3 s
        Assert.Equal("start", Assert.Single(events).Kind);
        Feed(0.5, 5);   // between Below and Above: still occupied
        Assert.True(tracker.IsActive(0));
        Feed(0.2, 3);   // ends after 1 s below
        Assert.Equal(2, events.Count);
        Assert.Equal("end", events[1].Kind);
        Assert.Equal(TimeSpan.FromSeconds(4 + 5), events[1].Duration);
    }
}
