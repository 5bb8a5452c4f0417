using EdgeSeg.Pipeline.Processing;

namespace EdgeSeg.Pipeline.Tests.Processing;

public class ReconnectBackoffTests
{
    private TimeSpan _now;

    private ReconnectBackoff Make() => new(() => _now, new Random(1));

    /// <summary>Fails, waits the delay it was given, and returns the delay.</summary>
    private static TimeSpan Fail(ReconnectBackoff b, ref TimeSpan now)
    {
        var delay = b.Failed();
        now += delay;
        return delay;
    }

    [Fact]
    public void During_the_first_minute_of_an_outage_no_wait_exceeds_1_s_plus_jitter()
    {
        var b = Make();
        var delays = new List<TimeSpan>();
        while (_now < TimeSpan.FromSeconds(55))
        {
            delays.Add(Fail(b, ref _now));
        }

        Assert.InRange(delays[0].TotalMilliseconds, 200, 300);
        Assert.True(delays[1] > delays[0]);
        Assert.All(delays, d => Assert.True(d <= TimeSpan.FromSeconds(1.2), $"{d}"));
    }

    [Fact]
    public void A_long_outage_backs_off_to_10_s_then_30_s_and_never_more()
    {
        var b = Make();
        var longest = TimeSpan.Zero;
        while (_now < TimeSpan.FromMinutes(9))
        {
            var delay = Fail(b, ref _now);
            longest = delay > longest ? delay : longest;
        }

        Assert.InRange(longest.TotalSeconds, 2.5, 12);
        var later = new List<TimeSpan>();
        while (_now < TimeSpan.FromMinutes(60))
        {
            later.Add(Fail(b, ref _now));
        }

        Assert.True(later.Max() > TimeSpan.FromSeconds(12));
        Assert.All(later, d => Assert.True(d <= TimeSpan.FromSeconds(36), $"{d}"));
    }

    [Fact]
    public void Only_a_delivered_frame_ends_the_outage_an_open_cut_before_it_is_one_more_short_failure()
    {
        var b = Make();
        for (var i = 0; i < 6; i++)
        {
            Fail(b, ref _now);
        }

        Assert.True(b.Outage > TimeSpan.Zero);
        b.Delivered();
        Assert.Equal(TimeSpan.Zero, b.Outage);
        Assert.InRange(b.Failed().TotalMilliseconds, 200, 300);
    }

    [Fact]
    public void Delays_are_jittered_so_cameras_do_not_reconnect_in_step()
    {
        var delays = Enumerable.Range(0, 20).Select(seed => new ReconnectBackoff(() => TimeSpan.Zero, new Random(seed)).Failed()).Distinct().Count();
        Assert.True(delays > 10);
    }
}
