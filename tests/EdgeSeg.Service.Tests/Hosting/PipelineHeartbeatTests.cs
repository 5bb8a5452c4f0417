using EdgeSeg.Service.Hosting;

namespace EdgeSeg.Service.Tests.Hosting;

/// <summary>The one definition of progress that the watchdog and /healthz share.</summary>
public sealed class PipelineHeartbeatTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public void Without_a_pipeline_nothing_progresses_and_nothing_is_stuck()
    {
        Assert.Equal((PipelineProgress.NotRunning, (TimeSpan?)null), new PipelineHeartbeat().Check(50_000, Window));
    }

    [Theory]
    [InlineData(49_000L, 48_000L, "Frames", 2.0)]
    [InlineData(49_000L, 39_000L, "NoFrames", 11.0)]
    [InlineData(49_000L, null, "NoFrames", null)]
    [InlineData(40_000L, 39_000L, "LoopStuck", 10.0)]
    [InlineData(30_000L, null, "LoopStuck", 20.0)]
    public void Progress_is_a_frame_within_the_window_and_a_loop_that_has_not_gone_round_is_stuck_whatever_the_frames(
        long loop, long? frame, string expected, double? ageSeconds)
    {
        var heartbeat = new PipelineHeartbeat();
        heartbeat.Attach(() => loop, () => frame);
        var (progress, age) = heartbeat.Check(50_000, Window);
        Assert.Equal(Enum.Parse<PipelineProgress>(expected), progress);
        Assert.Equal(ageSeconds, age?.TotalSeconds);

        heartbeat.Detach();
        Assert.Equal(PipelineProgress.NotRunning, heartbeat.Check(50_000, Window).Progress);
    }
}
