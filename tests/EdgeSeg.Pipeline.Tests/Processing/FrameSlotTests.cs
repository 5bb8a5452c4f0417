using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Processing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeSeg.Pipeline.Tests.Processing;

public sealed class FrameSlotTests
{
    [Fact]
    public void The_newest_frame_wins_and_every_replaced_frame_is_counted()
    {
        using var signal = new FrameSignal();
        var slot = new FrameSlot(signal);
        for (var i = 0; i < 5; i++)
        {
            var f = slot.Rent();
            f.EnsureSize(2, 2);
            f.Sequence = i;
            slot.Publish(f);
        }

        Assert.True(slot.TryTake(out var taken));
        Assert.Equal(4, taken.Sequence);
        Assert.Equal(4, slot.Dropped);
        Assert.Equal(5, slot.Published);
        Assert.False(slot.TryTake(out _));
    }

    [Fact]
    public void Buffers_are_recycled_rather_than_allocated()
    {
        using var signal = new FrameSignal();
        var slot = new FrameSlot(signal);
        var seen = new HashSet<VideoFrame>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < 50; i++)
        {
            var f = slot.Rent();
            seen.Add(f);
            slot.Publish(f);
            if (i % 3 == 0 && slot.TryTake(out var t))
            {
                slot.Return(t);
            }
        }

        Assert.InRange(seen.Count, 1, 3);
    }

    /// <summary>A source that gives three frames and ends (the test's factory fails to open it twice first).</summary>
    private sealed class FlakySource : IFrameSource
    {
        private int _left = 3;

        public string Description => "flaky";

        public double? NominalFps => null;

        public bool IsLive => true;

        public bool Read(VideoFrame target)
        {
            if (_left-- <= 0)
            {
                return false;
            }

            target.EnsureSize(4, 4);
            return true;
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public void A_source_that_fails_to_open_is_retried_until_it_works()
    {
        using var signal = new FrameSignal();
        var slot = new FrameSlot(signal);
        var opens = 0;
        using var worker = new CaptureWorker(
            "flaky",
            () => ++opens <= 2 ? throw new FrameSourceException("camera unreachable") : new FlakySource(),
            slot,
            maxFps: null,
            NullLogger.Instance);
        using var finished = new ManualResetEventSlim();
        worker.Finished += finished.Set;
        worker.Start();

        Assert.True(finished.Wait(TimeSpan.FromSeconds(10)), "the worker never finished");
        Assert.Equal(3, opens);
        Assert.Equal(2, worker.Reconnects);
        Assert.Equal("camera unreachable", worker.LastError);
        Assert.Equal(3, worker.Captured);
        Assert.Equal(CaptureState.Finished, worker.State);
    }
}

public class FrameSignalTests
{
    [Fact]
    public void Many_sets_before_a_wait_wake_it_once_and_a_set_after_the_wake_wakes_it_again()
    {
        using var signal = new FrameSignal();
        for (var i = 0; i < 1000; i++)
        {
            signal.Set();
        }

        Assert.True(signal.Wait(TimeSpan.Zero, CancellationToken.None));
        Assert.False(signal.Wait(TimeSpan.Zero, CancellationToken.None));
        signal.Set();
        Assert.True(signal.Wait(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task A_set_from_another_thread_wakes_a_waiter()
    {
        using var signal = new FrameSignal();
        var waiter = Task.Run(() => signal.Wait(TimeSpan.FromSeconds(30), CancellationToken.None));
        signal.Set();
        Assert.True(await waiter);
    }
}
