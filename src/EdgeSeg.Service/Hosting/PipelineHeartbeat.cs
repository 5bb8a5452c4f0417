namespace EdgeSeg.Service.Hosting;

/// <summary>
/// Where the running pipeline's liveness is read from: the inference loop's heartbeat, once the
/// pipeline exists. Shared between the segmentation service and the systemd watchdog.
/// </summary>
internal sealed class PipelineHeartbeat
{
    private Func<long>? _source;

    /// <summary>Milliseconds (<see cref="Environment.TickCount64"/>) of the last beat, or null before the pipeline runs.</summary>
    public long? LastBeat => _source?.Invoke();

    public void Attach(Func<long> source) => _source = source;

    public void Detach() => _source = null;
}
