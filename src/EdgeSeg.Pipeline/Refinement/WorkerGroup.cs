using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// A fixed set of threads that run one parallel step at a time: the caller runs part 0 and each
/// dedicated thread one further part. Unlike <see cref="Parallel.For(int, int, Action{int})"/> it
/// allocates nothing per step, and a step costs a few microseconds, which matters with ~40 steps
/// per frame.
/// </summary>
/// <remarks>
/// A step is a struct (<see cref="IWorkerStep"/>, or <see cref="IRangeStep"/> run in shares or
/// chunks): the generic methods are compiled per step type, so the step's code is called directly
/// and can be inlined, with no delegate, closure or boxing. The dedicated threads reach the step
/// through its address on the caller's stack and a function pointer to <see cref="Invoke{TStep}"/>;
/// both stay valid because <see cref="Run{TStep}"/> returns only when every part is done.
/// </remarks>
internal sealed unsafe class WorkerGroup : IDisposable
{
    // The chunk cursor of the current step, alone on its cache line (every claim writes it).
    private const int CursorSlot = 16;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2047);
    private readonly int[] _cursor = new int[2 * CursorSlot];
    private void* _step;
    private delegate*<void*, int, int, void> _invoke;
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
    public void Run<TStep>(TStep step)
        where TStep : struct, IWorkerStep
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _cursor[CursorSlot] = 0;
        if (Parts == 1)
        {
            step.Execute(0, 1);
            return;
        }

        _step = Unsafe.AsPointer(ref step);
        _invoke = &Invoke<TStep>;
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
            _invoke = null;
        }

        if (_failure is { } failure)
        {
            throw new AggregateException("a CRF worker failed", failure);
        }
    }

    /// <summary>Runs <paramref name="work"/> over items [0, count) in one contiguous share per part.</summary>
    public void RunShares<TWork>(int count, TWork work)
        where TWork : struct, IRangeStep => Run(new SharedStep<TWork>(count, work));

    /// <summary>
    /// Runs <paramref name="work"/> over items [0, count) in chunks of <paramref name="chunk"/>
    /// items handed to whichever part asks next (<see cref="NextChunk"/>).
    /// </summary>
    public void RunChunks<TWork>(int count, int chunk, TWork work)
        where TWork : struct, IRangeStep => Run(new ChunkedStep<TWork>(this, count, chunk, work));

    /// <summary>
    /// The next chunk of the current step's items for whichever part asks: the heavy steps hand out
    /// work this way instead of in fixed shares, so that a worker the OS preempts (a busy board)
    /// holds up at most one chunk while the others finish the rest. Each item's result must not
    /// depend on which part computes it.
    /// </summary>
    public bool NextChunk(int count, int chunk, out int start, out int end)
    {
        start = Interlocked.Add(ref _cursor[CursorSlot], chunk) - chunk;
        end = Math.Min(count, start + chunk);
        return start < count;
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

    private static void Invoke<TStep>(void* step, int part, int parts)
        where TStep : struct, IWorkerStep => Unsafe.AsRef<TStep>(step).Execute(part, parts);

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
                _invoke(_step, part, Parts);
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

    /// <summary>Part <c>part</c> of <c>parts</c> gets the items [count·part/parts, count·(part+1)/parts).</summary>
    private readonly struct SharedStep<TWork>(int count, TWork work) : IWorkerStep
        where TWork : struct, IRangeStep
    {
        public void Execute(int part, int parts)
        {
            var start = (int)((long)count * part / parts);
            var end = (int)((long)count * (part + 1) / parts);
            work.Run(part, start, end);
        }
    }

    private readonly struct ChunkedStep<TWork>(WorkerGroup group, int count, int chunk, TWork work) : IWorkerStep
        where TWork : struct, IRangeStep
    {
        public void Execute(int part, int parts)
        {
            // One copy per part: a call on the readonly field itself would copy it for every chunk.
            var local = work;
            while (group.NextChunk(count, chunk, out var start, out var end))
            {
                local.Run(part, start, end);
            }
        }
    }
}

/// <summary>One parallel step: part <c>part</c> of <c>parts</c> of some work.</summary>
internal interface IWorkerStep
{
    void Execute(int part, int parts);
}

/// <summary>
/// Work over a range of items (rows, row pairs, vertices), [start, end) of them done by part
/// <c>part</c>, which selects that worker's scratch buffers.
/// </summary>
internal interface IRangeStep
{
    void Run(int part, int start, int end);
}
