using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>
/// The hand-over between a camera's capture thread and inference: holds at most one pending frame,
/// the newest. Publishing over an untaken frame recycles the old one and counts a drop, so a slow
/// model never builds latency. Three buffers circulate (writing, pending, being processed); none is
/// allocated once they have reached the stream's size.
/// </summary>
public sealed class FrameSlot
{
    private readonly Lock _gate = new();
    private readonly Stack<VideoFrame> _free = new();
    private readonly FrameSignal _signal;
    private VideoFrame? _pending;
    private long _dropped;
    private long _published;

    public FrameSlot(FrameSignal signal)
    {
        _signal = signal;
        for (var i = 0; i < 3; i++)
        {
            _free.Push(new VideoFrame());
        }
    }

    /// <summary>Frames replaced before inference took them.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Frames handed over by capture.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>A buffer for capture to write the next frame into.</summary>
    public VideoFrame Rent()
    {
        lock (_gate)
        {
            return _free.Count > 0 ? _free.Pop() : new VideoFrame();
        }
    }

    /// <summary>Makes <paramref name="frame"/> the pending frame, recycling an untaken one.</summary>
    public void Publish(VideoFrame frame)
    {
        lock (_gate)
        {
            if (_pending is not null)
            {
                _free.Push(_pending);
                _dropped++;
            }

            _pending = frame;
            _published++;
        }

        _signal.Set();
    }

    /// <summary>Takes the pending frame, if any; give it back with <see cref="Return"/>.</summary>
    public bool TryTake(out VideoFrame frame)
    {
        lock (_gate)
        {
            frame = _pending!;
            _pending = null;
            return frame is not null;
        }
    }

    /// <summary>Gives a buffer back for reuse.</summary>
    public void Return(VideoFrame frame)
    {
        lock (_gate)
        {
            _free.Push(frame);
        }
    }
}

/// <summary>Wakes the inference loop when any camera has published a frame.</summary>
public sealed class FrameSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);
    private int _pending;

    /// <summary>
    /// Signals the waiter. Only the first Set after a wake releases the semaphore; later ones see the
    /// flag and return (the waiter will find every pending frame when it wakes), so a publisher under
    /// overload costs an interlocked exchange, not an exception per frame.
    /// </summary>
    public void Set()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _semaphore.Release();
        }
    }

    /// <summary>
    /// Waits for a signal; false on timeout. The flag is cleared before returning, so a frame published
    /// while the waiter scans the slots signals again.
    /// </summary>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_semaphore.Wait(timeout, cancellationToken))
        {
            return false;
        }

        Volatile.Write(ref _pending, 0);
        return true;
    }

    public void Dispose() => _semaphore.Dispose();
}
