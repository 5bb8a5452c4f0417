using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Pipeline.Synthetic;
using EdgeSeg.Service.Mqtt;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>The schemas accept what the service writes and reject what it must never write.</summary>
public sealed class PayloadSchemaTests
{
    private static string Stats()
    {
        var accumulator = new ClassAreaAccumulator("north", ["road", "car"], WindowPolicy.Frames(2));
        var now = DateTimeOffset.UtcNow;
        accumulator.Add([0.75, 0.25], now, inferenceMs: 10, latencyMs: 12, droppedTotal: 0);
        var window = accumulator.Add([0.5, 0.5], now.AddSeconds(1), inferenceMs: 11, latencyMs: 13, droppedTotal: 1)!;
        return System.Text.Encoding.UTF8.GetString(StatsPayload.Serialize("box-1", StatsPayload.NewRunId(), "model", window));
    }

    /// <summary>A window of a camera with two zones, a group and a ground plane, over two frames of a synthetic street.</summary>
    private static string ZonedStats()
    {
        string[] classes =
        [
            "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
            "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
        ];
        var renderer = new StreetSceneRenderer(7, 256, 128);
        var layout = new AreaLayout(
            classes,
            [new ClassGroup("vehicle", [13, 14, 15, 17, 18])],
            [new Zone("bottom", [new(0, 0.7), new(1, 0.7), new(1, 1), new(0, 1)]), new Zone("nothing", [new(0, 0), new(0.001, 0), new(0, 0.001)])],
            renderer.Ground.Plane(256, 128, 60),
            [0, 1, 13, 19]);
        var counter = new AreaCounter(layout);
        var accumulator = new ClassAreaAccumulator("north", layout, WindowPolicy.Frames(2)) { Counter = counter };
        var values = new double[layout.ValueCount];
        var labels = new EdgeSeg.Pipeline.Frames.LabelMap();
        WindowStats? window = null;
        for (var i = 0; i < 2; i++)
        {
            renderer.Render(i * 10, 15, new EdgeSeg.Pipeline.Frames.VideoFrame(), labels);
            counter.Measure(labels.Labels, labels.Width, labels.Height, values);
            window = accumulator.Add(values, DateTimeOffset.UtcNow.AddSeconds(i), 10, 12, 0);
        }

        return System.Text.Encoding.UTF8.GetString(StatsPayload.Serialize("box-1", StatsPayload.NewRunId(), "model", window!));
    }

    [Fact]
    public void A_stats_payload_with_zones_groups_and_square_metres_is_valid_and_carries_them()
    {
        var text = ZonedStats();
        PayloadSchemas.AssertValid("stats", text);
        var payload = JsonNode.Parse(text)!;
        Assert.True(payload["zones"]!["bottom"]!["area_m2"]!["road"]!["mean"]!.GetValue<double>() > 0);
        Assert.Equal(0, payload["zones"]!["nothing"]!["frame_share"]!.GetValue<double>());
        Assert.InRange(payload["groups"]!["vehicle"]!["mean"]!.GetValue<double>(), 0, 1);
        Assert.InRange(payload["area_excluded_share"]!.GetValue<double>(), 0.01, 0.99);
        Assert.Equal(["road", "sidewalk", "car", "vehicle"], payload["area_m2"]!.AsObject().Select(p => p.Key));

        payload["zones"]!["bottom"]!["shares"]!["road"] = 1.2;
        Assert.NotEmpty(PayloadSchemas.Violations("stats", payload.ToJsonString()));
    }

    [Fact]
    public void An_occupancy_event_as_serialised_is_valid_and_one_without_its_zone_is_not()
    {
        var rule = new OccupancyRule("queue", 0, 1, 0.6, 0.4, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        var t = DateTimeOffset.UtcNow;
        var e = new OccupancyEvent(rule, "lane", "car", "end", t, t.AddSeconds(12), t.AddSeconds(11), 0.2, 0.9);
        var text = System.Text.Encoding.UTF8.GetString(StatsPayload.SerializeEvent("box-1", StatsPayload.NewRunId(), "north", e));
        PayloadSchemas.AssertValid("event", text);
        var payload = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(11, payload["duration_s"]!.GetValue<double>());
        payload.Remove("zone");
        Assert.NotEmpty(PayloadSchemas.Violations("event", payload.ToJsonString()));
    }

    [Fact]
    public void A_stats_payload_as_serialised_is_valid()
    {
        PayloadSchemas.AssertValid("stats", Stats());
    }

    [Theory]
    [InlineData("run")]
    [InlineData("seq")]
    [InlineData("shares")]
    public void A_stats_payload_without_a_required_field_is_not(string field)
    {
        var payload = JsonNode.Parse(Stats())!.AsObject();
        payload.Remove(field);
        Assert.NotEmpty(PayloadSchemas.Violations("stats", payload.ToJsonString()));
    }

    [Fact]
    public void A_share_outside_0_to_1_and_a_status_word_that_is_not_online_or_offline_are_not_valid()
    {
        var payload = JsonNode.Parse(Stats())!;
        payload["shares"]!["road"] = 1.5;
        Assert.NotEmpty(PayloadSchemas.Violations("stats", payload.ToJsonString()));
        Assert.Empty(PayloadSchemas.Violations("status", "offline"));
        Assert.NotEmpty(PayloadSchemas.Violations("status", "gone"));
    }
}
