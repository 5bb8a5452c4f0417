using System.Buffers;
using System.Text.Json;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Service.Mqtt;

/// <summary>
/// The JSON published on <c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/stats</c>. Its shape is a public
/// contract (schema 1, documented in the README): fields are only ever added.
/// </summary>
public static class StatsPayload
{
    public const int Schema = 1;

    /// <summary>
    /// A new run id (UTC start time and 32 random bits, e.g. <c>20261202T012500Z-9f3a61c2</c>): one per
    /// start of the service, so that a subscriber tells a restart (new run, seq from 1) from a gap (same
    /// run, seq skips) without guessing.
    /// </summary>
    public static string NewRunId() =>
        $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    /// <summary>Serialises one window. Every class of the model is present, also at zero.</summary>
    public static byte[] Serialize(string deviceId, string run, string model, WindowStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", Schema);
            w.WriteString("device", deviceId);
            w.WriteString("camera", stats.Camera);
            w.WriteString("run", run);
            w.WriteNumber("seq", stats.Sequence);
            w.WriteString("timestamp", Iso(stats.End));
            w.WriteString("model", model);
            w.WriteStartObject("window");
            w.WriteString("start", Iso(stats.Start));
            w.WriteString("end", Iso(stats.End));
            w.WriteNumber("frames", stats.Frames);
            w.WriteNumber("dropped", stats.DroppedFrames);
            w.WriteNumber("refinement_skips", stats.RefinementSkips);
            w.WriteEndObject();
            w.WriteNumber("fps", Math.Round(stats.Fps, 2));
            if (stats.CameraState is { } state)
            {
                w.WriteString("camera_state", state);
            }

            w.WriteStartObject("inference_ms");
            w.WriteNumber("p50", Math.Round(stats.InferenceP50Ms, 2));
            w.WriteNumber("p95", Math.Round(stats.InferenceP95Ms, 2));
            w.WriteEndObject();
            w.WriteStartObject("latency_ms");
            w.WriteNumber("p50", Math.Round(stats.LatencyP50Ms, 2));
            w.WriteEndObject();
            w.WriteStartObject("shares");
            for (var c = 0; c < stats.Classes.Count; c++)
            {
                w.WriteNumber(stats.ClassNames[c], Math.Round(stats.Classes[c].Mean, 6));
            }

            w.WriteEndObject();
            w.WriteStartObject("classes");
            for (var c = 0; c < stats.Classes.Count; c++)
            {
                var s = stats.Classes[c];
                w.WriteStartObject(stats.ClassNames[c]);
                w.WriteNumber("mean", Math.Round(s.Mean, 6));
                w.WriteNumber("min", Math.Round(s.Min, 6));
                w.WriteNumber("max", Math.Round(s.Max, 6));
                w.WriteNumber("last", Math.Round(s.Last, 6));
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>UTC, ISO-8601 with milliseconds and a Z.</summary>
    public static string Iso(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
