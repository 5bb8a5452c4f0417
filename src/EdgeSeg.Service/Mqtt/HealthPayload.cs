using System.Buffers;
using System.Text.Json;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;

namespace EdgeSeg.Service.Mqtt;

/// <summary>What the health message says of the MQTT side: the connection, the spool and the broker's refusals.</summary>
public readonly record struct PublisherHealth(
    bool Connected, long SpoolDepth, TimeSpan SpoolOldestAge, long SpoolDropped, long Published, long Refused, string? LastRefusal);

/// <summary>What the health message says of one camera: its capture state and counters since the start.</summary>
public readonly record struct CameraHealth(
    string Name, CaptureState State, long Captured, long Processed, long Dropped, long Failures, long Reconnects, long RefinementSkips, string? LastError);

/// <summary>
/// The JSON published retained on <c>&lt;prefix&gt;/&lt;device&gt;/health</c>. Its shape is a public
/// contract (docs/schemas/health.schema.json): fields are only ever added.
/// </summary>
public static class HealthPayload
{
    /// <summary>Serialises one health message; every camera is present, in the order given.</summary>
    public static byte[] Serialize(
        DateTimeOffset timestamp, DateTimeOffset started, string model, ExecutionProvider provider,
        PublisherHealth publisher, IEnumerable<CameraHealth> cameras)
    {
        ArgumentNullException.ThrowIfNull(cameras);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", StatsPayload.Iso(timestamp));
            w.WriteString("started", StatsPayload.Iso(started));
            w.WriteString("model", model);
            w.WriteString("provider", provider.ToString());
            w.WriteBoolean("broker_connected", publisher.Connected);
            w.WriteNumber("spool_depth", publisher.SpoolDepth);
            w.WriteNumber("spool_oldest_age_s", Math.Round(publisher.SpoolOldestAge.TotalSeconds, 1));
            w.WriteNumber("spool_dropped", publisher.SpoolDropped);
            w.WriteNumber("published", publisher.Published);
            w.WriteNumber("refused", publisher.Refused);
            if (publisher.LastRefusal is { } refusal)
            {
                w.WriteString("last_refusal", refusal);
            }

            w.WriteStartObject("cameras");
            foreach (var camera in cameras)
            {
                w.WriteStartObject(camera.Name);
                w.WriteString("state", camera.State.ToString().ToLowerInvariant());
                w.WriteNumber("captured", camera.Captured);
                w.WriteNumber("processed", camera.Processed);
                w.WriteNumber("dropped", camera.Dropped);
                w.WriteNumber("failures", camera.Failures);
                w.WriteNumber("reconnects", camera.Reconnects);
                w.WriteNumber("refinement_skips", camera.RefinementSkips);
                if (camera.LastError is { } error)
                {
                    w.WriteString("last_error", error);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
