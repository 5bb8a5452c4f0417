using System.Diagnostics.Metrics;

namespace EdgeSeg.Pipeline.Processing;

/// <summary>
/// The pipeline's instruments on a .NET <see cref="Meter"/>: per-camera counters read at collection time
/// from the counters the pipeline keeps anyway (so each fact has one definition, the one health and stats
/// publish), the fps of the camera's newest window, and histograms of the model's and the CRF's time
/// per frame, recorded on the inference thread. Whoever listens to the meter exports them (the HTTP
/// endpoint's Prometheus registry, <c>dotnet-counters</c>); with no listener a recording costs a check.
/// </summary>
public sealed class PipelineMetrics
{
    /// <summary>Upper bounds of the latency histograms' buckets, seconds: 1 ms doubling to about 4 s.</summary>
    public static readonly IReadOnlyList<double> LatencyBuckets = [.. Enumerable.Range(0, 13).Select(k => 0.001 * Math.Pow(2, k))];

    private readonly Histogram<double> _inference;
    private readonly Histogram<double> _refinement;
    private IReadOnlyList<CameraChannel> _cameras = [];

    public PipelineMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _inference = meter.CreateHistogram<double>("inference_seconds", "s", "Model time per frame: preprocess, run and decode or argmax");
        _refinement = meter.CreateHistogram<double>("crf_seconds", "s", "CRF refinement time per frame, including frames whose refinement ran over its budget");
        meter.CreateObservableCounter("frames_captured_total", () => Each(c => c.Worker.Captured), "{frame}", "Frames read from the camera's source");
        meter.CreateObservableCounter("frames_processed_total", () => Each(c => c.Processed), "{frame}", "Frames segmented");
        meter.CreateObservableCounter("frames_dropped_total", () => Each(c => c.Slot.Dropped), "{frame}", "Frames replaced by a newer one before inference took them");
        meter.CreateObservableCounter("frame_failures_total", () => Each(c => c.Failures), "{frame}", "Frames that failed inference (logged and dropped)");
        meter.CreateObservableCounter("crf_skips_total", () => Each(c => c.RefinementSkips), "{frame}", "Frames published unrefined because the CRF ran over its budget");
        meter.CreateObservableCounter("reconnects_total", () => Each(c => c.Worker.Reconnects), "{reconnect}", "Times the camera's source was reopened after failing");
        meter.CreateObservableGauge("camera_fps", () => Each(c => c.LastWindow?.Fps ?? 0), "{frame}/s", "Frames segmented per second over the camera's newest window");
        meter.CreateObservableGauge("camera_streaming", () => Each(c => c.Worker.State == CaptureState.Streaming ? 1 : 0), null, "1 while frames arrive from the camera's source, else 0");
    }

    /// <summary>Makes <paramref name="cameras"/> the ones observed (the running pipeline's).</summary>
    internal void Attach(IReadOnlyList<CameraChannel> cameras) => Volatile.Write(ref _cameras, cameras);

    internal void Detach(IReadOnlyList<CameraChannel> cameras) => Interlocked.CompareExchange<IReadOnlyList<CameraChannel>>(ref _cameras, [], cameras);

    internal void RecordInference(CameraChannel camera, double seconds) => _inference.Record(seconds, camera.Tag);

    internal void RecordRefinement(CameraChannel camera, double seconds) => _refinement.Record(seconds, camera.Tag);

    private IEnumerable<Measurement<T>> Each<T>(Func<CameraChannel, T> value)
        where T : struct
    {
        foreach (var camera in Volatile.Read(ref _cameras))
        {
            yield return new Measurement<T>(value(camera), camera.Tag);
        }
    }
}
