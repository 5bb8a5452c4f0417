using System.Collections.Concurrent;
using EdgeSeg.Service.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeSeg.Service.Tests.Hosting;

public sealed class SystemdWatchdogTests
{
    private sealed class RecordingNotifier : ISystemdNotifier
    {
        public ConcurrentQueue<string> States { get; } = new();

        public bool IsEnabled => true;

        public void Notify(ServiceState state) => States.Enqueue(state.ToString());
    }

    [Fact]
    public async Task The_watchdog_is_petted_while_the_loop_beats_and_not_once_it_stalls()
    {
        var notifier = new RecordingNotifier();
        var heartbeat = new PipelineHeartbeat();
        long beat = Environment.TickCount64;
        heartbeat.Attach(() => Interlocked.Read(ref beat), () => null);
        using var watchdog = new SystemdWatchdog(notifier, heartbeat, NullLogger<SystemdWatchdog>.Instance, TimeSpan.FromMilliseconds(300));
        await watchdog.StartAsync(CancellationToken.None);

        using (var beating = new PeriodicTimer(TimeSpan.FromMilliseconds(20)))
        {
            for (var i = 0; i < 75; i++)
            {
                Interlocked.Exchange(ref beat, Environment.TickCount64);
                await beating.WaitForNextTickAsync();
            }
        }

        var petted = notifier.States.Count;
        Assert.True(petted >= 2, $"petted {petted} times in 1.5 s");
        Assert.All(notifier.States, s => Assert.Equal("WATCHDOG=1", s));

        // The loop stops beating: after one period at most one more pet may slip through, then none.
        await Task.Delay(450);
        var afterStall = notifier.States.Count;
        await Task.Delay(600);
        Assert.Equal(afterStall, notifier.States.Count);
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Without_a_running_pipeline_the_service_counts_as_alive()
    {
        using var watchdog = new SystemdWatchdog(new RecordingNotifier(), new PipelineHeartbeat(), NullLogger<SystemdWatchdog>.Instance, TimeSpan.FromSeconds(1));
        Assert.True(watchdog.IsAlive(Environment.TickCount64));
    }
}
