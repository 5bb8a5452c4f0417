using System.Diagnostics.Metrics;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Service.Mqtt;

namespace EdgeSeg.Service.Hosting;

/// <summary>
/// The appliance's meter, <see cref="MeterName"/> (System.Diagnostics.Metrics): the pipeline's
/// instruments (<see cref="PipelineMetrics"/>) plus what the service knows — the MQTT spool and
/// publishing, and which execution provider runs the model. Every value is read where it is kept
/// already. One per host, made by the host's <see cref="IMeterFactory"/>, so that two hosts in one
/// process (tests) never see each other's measurements.
/// </summary>
internal sealed class ServiceMetrics
{
    public const string MeterName = "EdgeSeg";

    public ServiceMetrics(IMeterFactory meters, MqttStatsPublisher publisher, OnnxSegmenter segmenter)
    {
        Meter = meters.Create(MeterName);
        Pipeline = new PipelineMetrics(Meter);
        Meter.CreateObservableGauge("spool_depth", () => publisher.SpoolDepth, "{message}", "Messages in the MQTT spool, waiting for the broker's acknowledgement");
        Meter.CreateObservableGauge("spool_oldest_age_seconds", () => publisher.SpoolOldestAge.TotalSeconds, "s", "Age of the oldest message in the MQTT spool");
        Meter.CreateObservableCounter("spool_dropped_total", () => publisher.Dropped, "{message}", "Messages dropped from a full or too old spool");
        Meter.CreateObservableCounter("mqtt_published_total", () => publisher.Published, "{message}", "Messages the broker acknowledged");
        Meter.CreateObservableCounter("mqtt_refused_total", () => publisher.Refused, "{message}", "Messages the broker refused (MQTT 5 reason codes)");
        Meter.CreateObservableGauge("mqtt_connected", () => publisher.IsConnected ? 1 : 0, null, "1 while connected to the broker");
        // Beside the resident set: what of it the garbage collector holds (the rest is native: ONNX Runtime,
        // OpenCV, the runtime itself, malloc's arenas), so that a growing RSS can be told apart.
        Meter.CreateObservableGauge("gc_committed_bytes", () => GC.GetGCMemoryInfo().TotalCommittedBytes, "By", "Memory the .NET garbage collector has committed (as of its last collection)");

        // Info-style: the value is 1, the facts are in the labels.
        var info = new Measurement<int>(
            1, new KeyValuePair<string, object?>("provider", segmenter.Provider.ToString()), new KeyValuePair<string, object?>("model", segmenter.Model.Name));
        Meter.CreateObservableGauge("execution_provider_info", () => info, null, "The execution provider that runs the model (label provider) and the model's name");
    }

    public Meter Meter { get; }

    public PipelineMetrics Pipeline { get; }
}
