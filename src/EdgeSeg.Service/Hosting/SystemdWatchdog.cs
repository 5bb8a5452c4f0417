using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Service.Hosting;

/// <summary>
/// Pets systemd's watchdog (<c>WatchdogSec=</c> in the unit) only while the inference loop is alive, so a
/// loop stuck in native code gets the service killed and restarted instead of silently publishing
/// nothing. Does nothing when systemd asked for no watchdog.
/// </summary>
internal sealed class SystemdWatchdog : BackgroundService
{
    private readonly ISystemdNotifier _notifier;
    private readonly PipelineHeartbeat _heartbeat;
    private readonly ILogger<SystemdWatchdog> _logger;
    private readonly TimeSpan? _timeout;

    public SystemdWatchdog(ISystemdNotifier notifier, PipelineHeartbeat heartbeat, ILogger<SystemdWatchdog> logger)
        : this(notifier, heartbeat, logger, WatchdogTimeout())
    {
    }

    internal SystemdWatchdog(ISystemdNotifier notifier, PipelineHeartbeat heartbeat, ILogger<SystemdWatchdog> logger, TimeSpan? timeout)
    {
        _notifier = notifier;
        _heartbeat = heartbeat;
        _logger = logger;
        _timeout = timeout;
    }

    /// <summary>The watchdog period systemd passes in WATCHDOG_USEC (for this process), or null.</summary>
    internal static TimeSpan? WatchdogTimeout()
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!long.TryParse(usec, System.Globalization.CultureInfo.InvariantCulture, out var us) || us <= 0)
        {
            return null;
        }

        if (pid is not null && pid != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(us);
    }

    /// <summary>
    /// True unless the loop is stuck: it has beaten within the watchdog period (or has not started yet).
    /// Cameras that deliver nothing do not count: a restart cannot bring them back, their reconnects do.
    /// </summary>
    internal bool IsAlive(long now) => _heartbeat.Check(now, _timeout!.Value).Progress != PipelineProgress.LoopStuck;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timeout is not { } timeout || !_notifier.IsEnabled)
        {
            return;
        }

        // Pet at a third of the period: two missed beats of the timer still leave margin.
        using var timer = new PeriodicTimer(timeout / 3);
        var warned = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (IsAlive(Environment.TickCount64))
                {
                    _notifier.Notify(new ServiceState("WATCHDOG=1"));
                    warned = false;
                }
                else if (!warned)
                {
                    _logger.LogCritical("inference loop has not gone round for over {Seconds:0} s; letting systemd's watchdog restart the service", timeout.TotalSeconds);
                    warned = true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
