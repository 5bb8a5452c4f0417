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
            WriteMeans(w, stats.ClassNames, stats.Classes);
            WriteClasses(w, "classes", stats.ClassNames, stats.Classes);
            WriteNamed(w, "groups", stats.Groups, 6);
            if (stats.GroundExcludedShare is { } excluded)
            {
                WriteNamed(w, "area_m2", stats.GroundAreas, 2);
                w.WriteNumber("area_excluded_share", Math.Round(excluded, 6));
            }

            if (stats.Zones.Count > 0)
            {
                w.WriteStartObject("zones");
                foreach (var zone in stats.Zones)
                {
                    w.WriteStartObject(zone.Name);
                    w.WriteNumber("frame_share", Math.Round(zone.FrameShare, 6));
                    WriteMeans(w, stats.ClassNames, zone.Classes);
                    WriteClasses(w, "classes", stats.ClassNames, zone.Classes);
                    WriteNamed(w, "groups", zone.Groups, 6);
                    if (stats.GroundExcludedShare is not null)
                    {
                        WriteNamed(w, "area_m2", zone.GroundAreas, 2);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>"shares": each class's mean share, by name.</summary>
    private static void WriteMeans(Utf8JsonWriter w, IReadOnlyList<string> names, IReadOnlyList<ClassShareStats> stats)
    {
        w.WriteStartObject("shares");
        for (var c = 0; c < stats.Count; c++)
        {
            w.WriteNumber(names[c], Math.Round(stats[c].Mean, 6));
        }

        w.WriteEndObject();
    }

    private static void WriteClasses(Utf8JsonWriter w, string name, IReadOnlyList<string> names, IReadOnlyList<ClassShareStats> stats)
    {
        w.WriteStartObject(name);
        for (var c = 0; c < stats.Count; c++)
        {
            WriteStats(w, names[c], stats[c], 6);
        }

        w.WriteEndObject();
    }

    /// <summary>Groups or square metres (an object per name with mean/min/max/last); always present for groups, even empty.</summary>
    private static void WriteNamed(Utf8JsonWriter w, string name, IReadOnlyList<NamedStats> stats, int digits)
    {
        w.WriteStartObject(name);
        foreach (var s in stats)
        {
            WriteStats(w, s.Name, s.Stats, digits);
        }

        w.WriteEndObject();
    }

    private static void WriteStats(Utf8JsonWriter w, string name, ClassShareStats s, int digits)
    {
        w.WriteStartObject(name);
        w.WriteNumber("mean", Math.Round(s.Mean, digits));
        w.WriteNumber("min", Math.Round(s.Min, digits));
        w.WriteNumber("max", Math.Round(s.Max, digits));
        w.WriteNumber("last", Math.Round(s.Last, digits));
        w.WriteEndObject();
    }

    /// <summary>
    /// The JSON published on <c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/events</c> when an occupancy
    /// starts or ends (docs/schemas/event.schema.json).
    /// </summary>
    public static byte[] SerializeEvent(string deviceId, string run, string camera, Pipeline.Areas.OccupancyEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", Schema);
            w.WriteString("device", deviceId);
            w.WriteString("camera", camera);
            w.WriteString("run", run);
            w.WriteString("timestamp", Iso(e.At));
            w.WriteString("event", e.Kind);
            w.WriteString("zone", e.ZoneName);
            w.WriteString("rule", e.Rule.Name);
            w.WriteString("class", e.SeriesName);
            w.WriteNumber("above", e.Rule.Above);
            w.WriteNumber("below", e.Rule.Below);
            w.WriteNumber("share", Math.Round(e.Share, 6));
            w.WriteNumber("peak_share", Math.Round(e.PeakShare, 6));
            w.WriteString("since", Iso(e.Since));
            if (e.Until is { } until)
            {
                w.WriteString("until", Iso(until));
            }

            w.WriteNumber("duration_s", Math.Round(e.Duration.TotalSeconds, 3));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>UTC, ISO-8601 with milliseconds and a Z.</summary>
    public static string Iso(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
