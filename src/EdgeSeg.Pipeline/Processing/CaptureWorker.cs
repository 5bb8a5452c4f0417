using System.Diagnostics;
using EdgeSeg.Pipeline.Capture;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>What a capture worker is doing.</summary>
public enum CaptureState
{
    Starting,

    /// <summary>The source is open (a decoder is running) but has not delivered a frame yet.</summary>
    Connecting,

    /// <summary>Frames are arriving.</summary>
    Streaming,
    Reconnecting,
    Finished,
    Stopped,
}

/// <summary>
/// Reads one camera on a thread of its own (sources block) and publishes into its <see cref="FrameSlot"/>.
/// A source that fails is closed and reopened with a jittered backoff whose ceiling grows with the
/// outage (<see cref="ReconnectBackoff"/>), forever: a camera that drops and comes back needs no operator.
/// Sources that are not live (<see cref="IFrameSource.IsLive"/>: files, generators) are paced to their
/// frame rate (or the camera's limit); live sources pace themselves and are only thinned to the limit.
/// </summary>
public sealed class CaptureWorker : IDisposable
{
    private readonly string _camera;
    private readonly Func<IFrameSource> _open;
    private readonly FrameSlot _slot;
    private double _maxFps;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private volatile CaptureState _state = CaptureState.Starting;
    private long _reconnects;
    private long _captured;

    /// <param name="camera">Camera name, for logs.</param>
    /// <param name="open">Opens the source; throws <see cref="FrameSourceException"/> when it cannot.</param>
    /// <param name="slot">Where frames go.</param>
    /// <param name="maxFps">Frame-rate limit, or null for none.</param>
    /// <param name="logger">Log sink.</param>
    public CaptureWorker(string camera, Func<IFrameSource> open, FrameSlot slot, double? maxFps, ILogger logger)
    {
        _camera = camera;
        _open = open;
        _slot = slot;
        _maxFps = maxFps ?? double.NaN;
        _logger = logger;
    }

    public CaptureState State => _state;

    /// <summary>When the state last changed.</summary>
    public DateTimeOffset StateSince { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Raised on the capture thread (or the stopping one) each time <see cref="State"/> changes and at every
    /// failure (a new <see cref="LastError"/>, one more reconnect); handlers must not block.
    /// </summary>
    public event Action<CaptureWorker>? StateChanged;

    /// <summary>The camera's name.</summary>
    public string Camera => _camera;

    private void SetState(CaptureState state)
    {
        if (_state == state)
        {
            return;
        }

        _state = state;
        StateSince = DateTimeOffset.UtcNow;
        RaiseStateChanged();
    }

    private void RaiseStateChanged()
    {
        try
        {
            StateChanged?.Invoke(this);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "camera {Camera}: a state observer failed", _camera);
        }
    }

    /// <summary>How many times the source was reopened after failing.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Frames read from the source (before rate limiting).</summary>
    public long Captured => Interlocked.Read(ref _captured);

    /// <summary>The last failure, without credentials, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Raised on the capture thread when a finite source ends.</summary>
    public event Action? Finished;

    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("already started");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"capture-{_camera}" };
        _thread.Start();
    }

    /// <summary>Stops reading and waits for the thread (a blocked read is bounded by the source's timeouts).</summary>
    /// <summary>The frame-rate limit; changed live (a remote command), it applies from the next frame. Null: none.</summary>
    public double? MaxFps
    {
        get
        {
            var v = Volatile.Read(ref _maxFps);
            return double.IsNaN(v) ? null : v;
        }

        set => Volatile.Write(ref _maxFps, value ?? double.NaN);
    }

    public void Stop(TimeSpan wait)
    {
        RequestStop();
        Join(wait);
    }

    /// <summary>Asks the capture thread to stop without waiting (a blocked read is cut by the source's own timeout).</summary>
    public void RequestStop() => _stop.Cancel();

    /// <summary>Waits up to <paramref name="wait"/> for the thread to end; true when it has.</summary>
    public bool Join(TimeSpan wait)
    {
        var ended = _thread?.Join(wait) ?? true;
        if (_state != CaptureState.Finished)
        {
            SetState(CaptureState.Stopped);
        }

        return ended;
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private void Run()
    {
        var token = _stop.Token;
        var clock = Stopwatch.StartNew();
        var backoff = new ReconnectBackoff(() => clock.Elapsed);
        while (!token.IsCancellationRequested)
        {
            IFrameSource source;
            if (_state == CaptureState.Starting)
            {
                // The first open; later ones happen while "reconnecting", which is what an operator needs to see.
                SetState(CaptureState.Connecting);
            }

            try
            {
                source = _open();
            }
            catch (FrameSourceException e)
            {
                Fail(e.Message, backoff, token);
                continue;
            }

            using (source)
            {
                _logger.LogInformation("camera {Camera}: opened {Source}", _camera, source.Description);
                try
                {
                    if (!Stream(source, token, backoff))
                    {
                        SetState(CaptureState.Finished);
                        _logger.LogInformation("camera {Camera}: end of stream", _camera);
                        Finished?.Invoke();
                        return;
                    }
                }
                catch (FrameSourceException e)
                {
                    Fail(e.Message, backoff, token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Whatever a decoder throws must not end the camera for good.
                    Fail($"{e.GetType().Name}: {e.Message}", backoff, token);
                }
            }
        }
    }

    /// <summary>Streams until cancelled (true) or the source ends (false).</summary>
    private bool Stream(IFrameSource source, CancellationToken token, ReconnectBackoff backoff)
    {
        var paced = !source.IsLive;
        TimeSpan Interval()
        {
            var limit = MaxFps;
            var rate = paced ? Math.Min(limit ?? double.MaxValue, source.NominalFps ?? 30) : limit ?? 0;
            return rate > 0 && rate < double.MaxValue ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;
        }

        var clock = Stopwatch.StartNew();
        var due = TimeSpan.Zero;
        while (!token.IsCancellationRequested)
        {
            var frame = _slot.Rent();
            bool ok;
            try
            {
                ok = source.Read(frame);
            }
            catch
            {
                _slot.Return(frame);
                throw;
            }

            if (!ok)
            {
                _slot.Return(frame);
                return false;
            }

            Interlocked.Increment(ref _captured);
            if (_state != CaptureState.Streaming)
            {
                SetState(CaptureState.Streaming);
                _logger.LogInformation("camera {Camera}: streaming ({Width}x{Height})", _camera, frame.Width, frame.Height);
            }

            backoff.Delivered();
            var interval = Interval();
            if (interval > TimeSpan.Zero)
            {
                var now = clock.Elapsed;
                if (paced)
                {
                    if (due > now)
                    {
                        token.WaitHandle.WaitOne(due - now);
                    }

                    // Catch up after a stall instead of bursting to make up for lost frames.
                    due = TimeSpan.FromTicks(Math.Max(due.Ticks, now.Ticks - interval.Ticks)) + interval;
                }
                else if (now < due)
                {
                    // A live camera delivers at its own rate; frames over the limit are let go unpublished.
                    _slot.Return(frame);
                    continue;
                }
                else
                {
                    due = now + interval;
                }
            }

            frame.Timestamp = DateTimeOffset.UtcNow;
            _slot.Publish(frame);
        }

        return true;
    }

    private void Fail(string message, ReconnectBackoff backoff, CancellationToken token)
    {
        LastError = message;
        Interlocked.Increment(ref _reconnects);
        if (_state == CaptureState.Reconnecting)
        {
            RaiseStateChanged();
        }
        else
        {
            SetState(CaptureState.Reconnecting);
        }

        var delay = backoff.Failed();
        _logger.LogWarning("camera {Camera}: {Error}; retrying in {Seconds:0.0} s (down {Outage:0} s)", _camera, message, delay.TotalSeconds, backoff.Outage.TotalSeconds);
        token.WaitHandle.WaitOne(delay);
    }
}
