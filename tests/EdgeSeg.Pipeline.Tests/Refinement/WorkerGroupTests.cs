using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

public sealed class WorkerGroupTests
{
    [Theory]
    [InlineData(1, 0, 4)]
    [InlineData(1, 37, 4)]
    [InlineData(2, 1, 8)]
    [InlineData(2, 100, 3)]
    [InlineData(3, 7, 64)]
    [InlineData(3, 1000, 1)]
    public void Shares_and_chunks_run_every_item_exactly_once(int parts, int count, int chunk)
    {
        using var group = new WorkerGroup(parts);
        var shares = new int[count];
        var chunks = new int[count];
        group.RunShares(count, new CountItems(shares));
        group.RunChunks(count, chunk, new CountItems(chunks));

        // A second chunked step starts from item 0 again.
        group.RunChunks(count, chunk, new CountItems(chunks));

        Assert.All(shares, hits => Assert.Equal(1, hits));
        Assert.All(chunks, hits => Assert.Equal(2, hits));
    }

    [Fact]
    public void Shares_are_contiguous_and_in_part_order()
    {
        using var group = new WorkerGroup(3);
        var owner = new int[10];
        group.RunShares(owner.Length, new RecordPart(owner));
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2, 2], owner);
    }

    [Fact]
    public void A_failing_worker_fails_the_step_and_the_group_keeps_working()
    {
        using var group = new WorkerGroup(2);
        var error = Assert.Throws<AggregateException>(() => group.Run(new FailOnPart(1)));
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Throws<InvalidOperationException>(() => group.Run(new FailOnPart(0)));

        var hits = new int[5];
        group.RunChunks(hits.Length, 2, new CountItems(hits));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void A_disposed_group_refuses_steps()
    {
        var group = new WorkerGroup(2);
        group.Dispose();
        Assert.Throws<ObjectDisposedException>(() => group.RunShares(1, new CountItems(new int[1])));
    }

    private readonly struct CountItems(int[] hits) : IRangeStep
    {
        public void Run(int part, int start, int end)
        {
            for (var i = start; i < end; i++)
            {
                Interlocked.Increment(ref hits[i]);
            }
        }
    }

    private readonly struct RecordPart(int[] owner) : IRangeStep
    {
        public void Run(int part, int start, int end) => owner.AsSpan(start, end - start).Fill(part);
    }

    private readonly struct FailOnPart(int failing) : IWorkerStep
    {
        public void Execute(int part, int parts)
        {
            if (part == failing)
            {
                throw new InvalidOperationException($"part {part} of {parts}");
            }
        }
    }
}
