using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Statistics;
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
