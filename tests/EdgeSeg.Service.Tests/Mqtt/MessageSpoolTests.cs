using EdgeSeg.Service.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeSeg.Service.Tests.Mqtt;

public sealed class MessageSpoolTests
{
    private readonly string _path = Path.Combine(TestFiles.NewTempDirectory(), "spool.db");

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static byte[] Bytes(int i) => BitConverter.GetBytes(i);

    [Fact]
    public async Task Messages_survive_reopening_and_leave_in_order_only_when_acknowledged()
    {
        using (var spool = new MessageSpool(_path, 100, TimeSpan.FromDays(1), NullLogger.Instance))
        {
            for (var i = 1; i <= 3; i++)
            {
                spool.Enqueue("t/stats", Bytes(i));
            }

            var first = await spool.PeekAsync(CancellationToken.None);
            Assert.Equal(Bytes(1), first.Payload);
            Assert.Equal(first.Id, (await spool.PeekAsync(CancellationToken.None)).Id);   // not acknowledged: still first
            spool.Acknowledge(first.Id);
        }

        using var reopened = new MessageSpool(_path, 100, TimeSpan.FromDays(1), NullLogger.Instance);
        Assert.Equal(2, reopened.Depth);
        var second = await reopened.PeekAsync(CancellationToken.None);
        Assert.Equal(Bytes(2), second.Payload);
        Assert.Equal("t/stats", second.Topic);
    }

    private sealed class CountingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == Microsoft.Extensions.Logging.LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }

    [Fact]
    public async Task Beyond_its_capacity_the_oldest_are_dropped_counted_and_logged_once_per_episode()
    {
        var log = new CountingLogger();
        using var spool = new MessageSpool(_path, 5, TimeSpan.FromDays(1), log);
        for (var i = 0; i < 12; i++)
        {
            spool.Enqueue("t", Bytes(i));
        }

        Assert.Equal(5, spool.Depth);
        Assert.Equal(7, spool.Dropped);
        Assert.Equal(Bytes(7), (await spool.PeekAsync(CancellationToken.None)).Payload);   // the oldest went first
        Assert.Single(log.Warnings);

        // The spool drains: the episode is over; the next overflow is logged again.
        while (spool.Depth > 0)
        {
            spool.Acknowledge((await spool.PeekAsync(CancellationToken.None)).Id);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => spool.PeekAsync(cts.Token));
        for (var i = 0; i < 6; i++)
        {
            spool.Enqueue("t", Bytes(i));
        }

        Assert.Equal(2, log.Warnings.Count);
    }

    [Fact]
    public async Task Messages_older_than_the_age_limit_are_dropped_and_counted()
    {
        var clock = new Clock(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var spool = new MessageSpool(_path, 100, TimeSpan.FromHours(1), NullLogger.Instance, clock);
        spool.Enqueue("t", Bytes(1));
        clock.Now += TimeSpan.FromMinutes(30);
        spool.Enqueue("t", Bytes(2));
        Assert.Equal(TimeSpan.FromMinutes(30), spool.OldestAge);

        clock.Now += TimeSpan.FromMinutes(45);
        var next = await spool.PeekAsync(CancellationToken.None);
        Assert.Equal(Bytes(2), next.Payload);
        Assert.Equal(1, spool.Dropped);
    }

    [Fact]
    public async Task A_waiting_reader_wakes_when_a_message_arrives()
    {
        using var spool = new MessageSpool(string.Empty, 10, TimeSpan.FromDays(1), NullLogger.Instance);
        var reader = spool.PeekAsync(CancellationToken.None);
        Assert.False(reader.IsCompleted);
        spool.Enqueue("t", Bytes(9));
        var message = await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Bytes(9), message.Payload);
    }
}
