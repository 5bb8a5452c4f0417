namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// A fixed set of threads that run one parallel step at a time: the caller runs part 0 and each
/// dedicated thread one further part. Unlike <see cref="Parallel.For(int, int, Action{int})"/> it
/// allocates nothing per step, and a step costs a few microseconds, which matters with ~40 steps
/// per frame.
/// </summary>
internal sealed class WorkerGroup : IDisposable
{
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2047);
    private IWorkerStep? _step;
    private int _pending;
    private Exception? _failure;
    private volatile bool _stopping;

    public WorkerGroup(int parts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        Parts = parts;
        _threads = new Thread[parts - 1];
        _start = new ManualResetEventSlim[parts - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false, spinCount: 2047);
            var part = i + 1;
            _threads[i] = new Thread(() => Work(part))
            {
                IsBackground = true,
                Name = $"crf-worker-{part}",
            };
            _threads[i].Start();
        }

        // A blocking wait creates the event's lock object on first use; do it now, not in a frame.
        _done.Wait(1);
    }

    /// <summary>Number of parts a step is split into (the caller's thread included).</summary>
    public int Parts { get; }

    /// <summary>Runs <paramref name="step"/> for parts 0..Parts−1 and returns when all are done.</summary>
    public void Run(IWorkerStep step)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (Parts == 1)
        {
            step.Execute(0, 1);
            return;
        }

        _step = step;
        _failure = null;
        _done.Reset();
        Volatile.Write(ref _pending, Parts - 1);
        foreach (var start in _start)
        {
            start.Set();
        }

        try
        {
            step.Execute(0, Parts);
        }
        finally
        {
            _done.Wait();
            _step = null;
        }

        if (_failure is { } failure)
        {
            throw new AggregateException("a CRF worker failed", failure);
        }
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        foreach (var start in _start)
        {
            start.Set();
        }

        foreach (var thread in _threads)
        {
            thread.Join();
        }

        foreach (var start in _start)
        {
            start.Dispose();
        }

        _done.Dispose();
    }

    private void Work(int part)
    {
        var start = _start[part - 1];
        while (true)
        {
            start.Wait();
            start.Reset();
            if (_stopping)
            {
                return;
            }

            try
            {
                _step!.Execute(part, Parts);
            }
            catch (Exception ex)
            {
                _failure = ex;
            }

            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Set();
            }
        }
    }
}

/// <summary>One parallel step: part <c>part</c> of <c>parts</c> equal shares of some work.</summary>
internal interface IWorkerStep
{
    void Execute(int part, int parts);
}
