using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Tests.Statistics;

public sealed class ClassAreaTests
{
    private static readonly string[] Names = ["road", "car", "sky"];

    [Fact]
    public void Shares_count_labelled_pixels_only_and_sum_to_one()
    {
        byte[] labels = [0, 0, 0, 1, 2, 2, LabelMap.Ignore, LabelMap.Ignore, 7];
        var shares = new double[3];
        var labelled = ClassAreaCounter.Shares(labels, new long[3], shares);

        Assert.Equal(6, labelled);
        Assert.Equal(new[] { 0.5, 1.0 / 6, 2.0 / 6 }, shares);
        Assert.Equal(1.0, shares.Sum(), 12);
    }

    [Fact]
    public void A_map_with_no_labelled_pixel_gives_zero_shares()
    {
        var shares = new double[3];
        Assert.Equal(0, ClassAreaCounter.Shares(new byte[] { 255, 255 }, new long[3], shares));
        Assert.All(shares, s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void A_frame_window_reports_mean_min_max_last_and_the_drops_in_it()
    {
        var acc = new ClassAreaAccumulator("north", Names, WindowPolicy.Frames(3));
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Null(acc.Add([0.5, 0.5, 0.0], t, 10, 20, droppedTotal: 4));
        Assert.Null(acc.Add([0.2, 0.6, 0.2], t.AddSeconds(1), 30, 40, droppedTotal: 5));
        var w = acc.Add([0.8, 0.1, 0.1], t.AddSeconds(2), 20, 30, droppedTotal: 9);

        Assert.NotNull(w);
        Assert.Equal(1, w.Sequence);
        Assert.Equal(3, w.Frames);
        // Every drop belongs to one window: the first window has all of them since the camera started.
        Assert.Equal(9, w.DroppedFrames);
        Assert.Equal(1.0, w.Fps, 9);
        Assert.Equal(0.5, w.Classes[0].Mean, 9);
        Assert.Equal(0.2, w.Classes[0].Min, 9);
        Assert.Equal(0.8, w.Classes[0].Max, 9);
        Assert.Equal(0.8, w.Classes[0].Last, 9);
        Assert.Equal(1.0, w.Classes.Sum(c => c.Mean), 9);
        Assert.Equal(20, w.InferenceP50Ms);
        Assert.Equal(30, w.InferenceP95Ms);

        var next = acc.Add([1, 0, 0], t.AddSeconds(3), 1, 1, droppedTotal: 9);
        Assert.Null(next);
        Assert.Equal(1, acc.FramesInWindow);
        Assert.Null(acc.Add([1, 0, 0], t.AddSeconds(4), 1, 1, droppedTotal: 10));
        var second = acc.Add([1, 0, 0], t.AddSeconds(5), 1, 1, droppedTotal: 12);
        Assert.Equal(3, second!.DroppedFrames);
        Assert.Equal(2, second.Sequence);
    }

    [Fact]
    public void Window_sequence_numbers_only_grow()
    {
        var acc = new ClassAreaAccumulator("north", Names, WindowPolicy.Frames(1));
        var t = DateTimeOffset.UtcNow;
        var seqs = Enumerable.Range(0, 5).Select(i => acc.Add([1, 0, 0], t.AddSeconds(i), 1, 1, 0)!.Sequence).ToArray();
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, seqs);
    }

    [Fact]
    public void A_time_window_closes_once_its_duration_has_passed()
    {
        var acc = new ClassAreaAccumulator("north", Names, WindowPolicy.Seconds(2));
        var t = DateTimeOffset.UtcNow;
        Assert.Null(acc.Add([1, 0, 0], t, 1, 1, 0));
        Assert.Null(acc.Add([1, 0, 0], t.AddSeconds(1.5), 1, 1, 0));
        var w = acc.Add([0, 1, 0], t.AddSeconds(2), 1, 1, 0);
        Assert.NotNull(w);
        Assert.Equal(3, w.Frames);
        Assert.Equal(1.0, w.Fps, 9);
    }

    [Fact]
    public void A_window_needs_exactly_one_closing_rule()
    {
        Assert.Throws<ArgumentException>(() => new ClassAreaAccumulator("n", Names, new WindowPolicy(null, null)));
        Assert.Throws<ArgumentException>(() => new ClassAreaAccumulator("n", Names, new WindowPolicy(TimeSpan.FromSeconds(1), 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClassAreaAccumulator("n", Names, WindowPolicy.Frames(0)));
    }
}

public sealed class WindowsOnTimeTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static ClassAreaAccumulator Make() => new("north", ["road", "car"], WindowPolicy.Seconds(5));

    [Fact]
    public void A_camera_that_delivers_nothing_gets_an_empty_window_every_duration()
    {
        var a = Make();
        Assert.Null(a.CloseIfDue(T0, 0));
        Assert.Null(a.CloseIfDue(T0.AddSeconds(4.9), 0));
        var first = a.CloseIfDue(T0.AddSeconds(5), 3);
        Assert.NotNull(first);
        Assert.Equal((0, 0.0, 1L, 3L), (first.Frames, first.Fps, first.Sequence, first.DroppedFrames));
        Assert.All(first.Classes, c => Assert.Equal(0, c.Mean));
        Assert.Equal(T0, first.Start);
        var second = a.CloseIfDue(T0.AddSeconds(10.1), 3);
        Assert.Equal((2L, T0.AddSeconds(5), 0L), (second!.Sequence, second.Start, second.DroppedFrames));
    }

    [Fact]
    public void A_window_whose_camera_stops_mid_way_closes_on_time_with_the_frames_it_had()
    {
        var a = Make();
        a.CloseIfDue(T0, 0);
        a.Add([1, 0], T0.AddSeconds(1), 10, 12, 0);
        a.Add([0.5, 0.5], T0.AddSeconds(2), 10, 12, 0);
        Assert.Null(a.CloseIfDue(T0.AddSeconds(5.9), 0));
        var w = a.CloseIfDue(T0.AddSeconds(6), 0);
        Assert.Equal((2, 0.75), (w!.Frames, w.Classes[0].Mean));
    }

    [Fact]
    public void After_an_outage_the_next_window_covers_only_the_time_since_recovery()
    {
        var a = Make();
        a.CloseIfDue(T0, 0);
        Assert.NotNull(a.CloseIfDue(T0.AddSeconds(5), 0));     // empty
        Assert.Null(a.CloseIfDue(T0.AddSeconds(7), 0));
        a.Add([1, 0], T0.AddSeconds(8), 10, 12, 0);             // the camera is back
        var w = a.CloseIfDue(T0.AddSeconds(13), 0);
        Assert.Equal((T0.AddSeconds(8), 1), (w!.Start, w.Frames));
    }

    [Fact]
    public void Windows_counted_in_frames_do_not_close_on_time()
    {
        var a = new ClassAreaAccumulator("north", ["road"], WindowPolicy.Frames(10));
        Assert.Null(a.CloseIfDue(T0, 0));
        Assert.Null(a.CloseIfDue(T0.AddHours(1), 0));
    }
}
