namespace EdgeSeg.Service.Hosting;

/// <summary>How far the running pipeline is getting, at one moment.</summary>
internal enum PipelineProgress
{
    /// <summary>No pipeline runs (before it starts, after it stops).</summary>
    NotRunning,

    /// <summary>The inference loop has not gone round within the window: it is stuck (in native code, say).</summary>
    LoopStuck,

    /// <summary>The loop goes round, but no camera's frame was segmented within the window.</summary>
    NoFrames,

    /// <summary>A frame was segmented within the window.</summary>
    Frames,
}

/// <summary>
/// Where the running pipeline's liveness is read from: the inference loop's heartbeat and its newest
/// segmented frame, once the pipeline exists. The one definition of progress, shared by the systemd
/// watchdog (which restarts a stuck loop, not a box whose cameras are all down) and <c>/healthz</c>
/// (which is healthy only while frames are segmented).
/// </summary>
internal sealed class PipelineHeartbeat
{
    private sealed record Sources(Func<long> Loop, Func<long?> LastFrame);

    private Sources? _sources;

    /// <summary>Milliseconds (<see cref="Environment.TickCount64"/>) of the last beat, or null before the pipeline runs.</summary>
    public long? LastBeat => Volatile.Read(ref _sources)?.Loop();

    /// <summary>Milliseconds (<see cref="Environment.TickCount64"/>) of the newest segmented frame, or null (none yet, or no pipeline).</summary>
    public long? LastFrame => Volatile.Read(ref _sources)?.LastFrame();

    /// <param name="loop">When the inference loop last went round.</param>
    /// <param name="lastFrame">When a frame was last segmented (null: none yet).</param>
    public void Attach(Func<long> loop, Func<long?> lastFrame) => Volatile.Write(ref _sources, new Sources(loop, lastFrame));

    public void Detach() => Volatile.Write(ref _sources, null);

    /// <summary>
    /// The pipeline's progress at <paramref name="now"/> (<see cref="Environment.TickCount64"/> ms) judged
    /// over <paramref name="window"/>, with the age of what was judged (the loop's beat when it is stuck,
    /// the newest frame otherwise; null when there is none).
    /// </summary>
    public (PipelineProgress Progress, TimeSpan? Age) Check(long now, TimeSpan window)
    {
        if (Volatile.Read(ref _sources) is not { } sources)
        {
            return (PipelineProgress.NotRunning, null);
        }

        var beat = TimeSpan.FromMilliseconds(now - sources.Loop());
        if (beat >= window)
        {
            return (PipelineProgress.LoopStuck, beat);
        }

        if (sources.LastFrame() is not { } frame)
        {
            return (PipelineProgress.NoFrames, null);
        }

        var age = TimeSpan.FromMilliseconds(now - frame);
        return (age < window ? PipelineProgress.Frames : PipelineProgress.NoFrames, age);
    }
}
