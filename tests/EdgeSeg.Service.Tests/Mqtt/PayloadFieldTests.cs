using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Service.Mqtt;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>
/// The health and stats payloads carry each field the schemas and README promise, with its JSON type
/// and the value it was given (rounded as documented).
/// </summary>
public sealed class PayloadFieldTests
{
    private static readonly DateTimeOffset Started = new(2026, 12, 2, 1, 25, 0, TimeSpan.Zero);

    private static JsonObject Health(string? lastRefusal, string? lastError)
    {
        var publisher = new PublisherHealth(
            Connected: true, SpoolDepth: 7, SpoolOldestAge: TimeSpan.FromSeconds(12.34), SpoolDropped: 3, Published: 120, Refused: 2, lastRefusal);
        CameraHealth[] cameras =
        [
            new("north", CaptureState.Streaming, Captured: 500, Processed: 480, Dropped: 20, Failures: 1, Reconnects: 0, RefinementSkips: 4, LastError: null),
            new("south", CaptureState.Reconnecting, Captured: 10, Processed: 9, Dropped: 1, Failures: 0, Reconnects: 5, RefinementSkips: 0, lastError),
        ];
        var bytes = HealthPayload.Serialize(Started.AddMinutes(5), Started, "street-int8", ExecutionProvider.CPU, publisher, cameras);
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        PayloadSchemas.AssertValid("health", text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public void The_health_payload_carries_every_field_with_its_type_and_value()
    {
        var h = Health(lastRefusal: "edgeseg/box/north/stats: not authorized", lastError: "connection refused");

        Assert.Equal("2026-12-02T01:30:00.000Z", h["timestamp"]!.GetValue<string>());
        Assert.Equal("2026-12-02T01:25:00.000Z", h["started"]!.GetValue<string>());
        Assert.Equal("street-int8", h["model"]!.GetValue<string>());
        Assert.Equal("CPU", h["provider"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.True, h["broker_connected"]!.GetValueKind());
        Assert.Equal(7, h["spool_depth"]!.GetValue<long>());
        Assert.Equal(12.3, h["spool_oldest_age_s"]!.GetValue<double>());
        Assert.Equal(3, h["spool_dropped"]!.GetValue<long>());
        Assert.Equal(120, h["published"]!.GetValue<long>());
        Assert.Equal(2, h["refused"]!.GetValue<long>());
        Assert.Equal("edgeseg/box/north/stats: not authorized", h["last_refusal"]!.GetValue<string>());

        var cameras = h["cameras"]!.AsObject();
        Assert.Equal(["north", "south"], cameras.Select(c => c.Key));
        var north = cameras["north"]!.AsObject();
        Assert.Equal("streaming", north["state"]!.GetValue<string>());
        Assert.Equal(500, north["captured"]!.GetValue<long>());
        Assert.Equal(480, north["processed"]!.GetValue<long>());
        Assert.Equal(20, north["dropped"]!.GetValue<long>());
        Assert.Equal(1, north["failures"]!.GetValue<long>());
        Assert.Equal(0, north["reconnects"]!.GetValue<long>());
        Assert.Equal(4, north["refinement_skips"]!.GetValue<long>());
        Assert.False(north.ContainsKey("last_error"));
        var south = cameras["south"]!.AsObject();
        Assert.Equal("reconnecting", south["state"]!.GetValue<string>());
        Assert.Equal(5, south["reconnects"]!.GetValue<long>());
        Assert.Equal("connection refused", south["last_error"]!.GetValue<string>());

        // Every number is an integer except the spool's age.
        foreach (var name in new[] { "spool_depth", "spool_dropped", "published", "refused" })
        {
            Assert.Equal(JsonValueKind.Number, h[name]!.GetValueKind());
            Assert.DoesNotContain(".", h[name]!.ToJsonString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Health_leaves_out_the_last_refusal_and_error_until_there_is_one()
    {
        var h = Health(lastRefusal: null, lastError: null);
        Assert.False(h.ContainsKey("last_refusal"));
        Assert.All(h["cameras"]!.AsObject(), c => Assert.False(c.Value!.AsObject().ContainsKey("last_error")));
    }

    [Fact]
    public void A_health_payload_without_its_cameras_or_with_a_provider_it_cannot_have_is_not_valid()
    {
        var h = Health(lastRefusal: null, lastError: null);
        h.Remove("cameras");
        Assert.NotEmpty(PayloadSchemas.Violations("health", h.ToJsonString()));
        h = Health(lastRefusal: null, lastError: null);
        h["provider"] = "GPU";
        Assert.NotEmpty(PayloadSchemas.Violations("health", h.ToJsonString()));
    }

    [Fact]
    public void The_stats_payload_carries_each_classs_mean_min_max_last_and_the_inference_and_latency_percentiles()
    {
        var start = new DateTimeOffset(2026, 12, 2, 1, 25, 0, TimeSpan.Zero);
        var window = new WindowStats
        {
            Camera = "north",
            Sequence = 42,
            Start = start,
            End = start.AddSeconds(10),
            Frames = 150,
            DroppedFrames = 3,
            Fps = 14.95,
            InferenceP50Ms = 44.1234,
            InferenceP95Ms = 61.4567,
            LatencyP50Ms = 52.009,
            ClassNames = ["road", "car"],
            Classes = [new(0.6123456789, 0.5, 0.7, 0.65), new(0.25, 0.1, 0.4000004, 0)],
        };
        var text = System.Text.Encoding.UTF8.GetString(StatsPayload.Serialize("box-1", "20261202T012500Z-9f3a61c2", "street", window));
        PayloadSchemas.AssertValid("stats", text);
        var p = JsonNode.Parse(text)!.AsObject();

        // Milliseconds rounded to 2 digits, shares to 6.
        var inference = p["inference_ms"]!.AsObject();
        Assert.Equal(["p50", "p95"], inference.Select(f => f.Key));
        Assert.Equal(44.12, inference["p50"]!.GetValue<double>());
        Assert.Equal(61.46, inference["p95"]!.GetValue<double>());
        var latency = p["latency_ms"]!.AsObject();
        Assert.Equal(["p50"], latency.Select(f => f.Key));
        Assert.Equal(52.01, latency["p50"]!.GetValue<double>());

        var classes = p["classes"]!.AsObject();
        Assert.Equal(["road", "car"], classes.Select(c => c.Key));
        foreach (var c in classes)
        {
            Assert.Equal(["mean", "min", "max", "last"], c.Value!.AsObject().Select(f => f.Key));
            Assert.All(c.Value!.AsObject(), f => Assert.Equal(JsonValueKind.Number, f.Value!.GetValueKind()));
        }

        Assert.Equal(0.612346, classes["road"]!["mean"]!.GetValue<double>());
        Assert.Equal(0.5, classes["road"]!["min"]!.GetValue<double>());
        Assert.Equal(0.7, classes["road"]!["max"]!.GetValue<double>());
        Assert.Equal(0.65, classes["road"]!["last"]!.GetValue<double>());
        Assert.Equal(0.25, classes["car"]!["mean"]!.GetValue<double>());
        Assert.Equal(0.4, classes["car"]!["max"]!.GetValue<double>());
        Assert.Equal(0, classes["car"]!["last"]!.GetValue<double>());

        // "shares" repeats each class's mean, by name.
        Assert.Equal(0.612346, p["shares"]!["road"]!.GetValue<double>());
        Assert.Equal(0.25, p["shares"]!["car"]!.GetValue<double>());
    }
}
