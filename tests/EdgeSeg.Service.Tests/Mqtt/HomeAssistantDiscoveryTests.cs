using System.Text.Json.Nodes;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Mqtt;

namespace EdgeSeg.Service.Tests.Mqtt;

public sealed class HomeAssistantDiscoveryTests
{
    private static List<JsonNode> Configs(List<string> wanted)
    {
        var discovery = new HomeAssistantDiscovery(
            new HomeAssistantOptions { Enabled = true, Classes = wanted }, new MqttTopics("edgeseg", "box"), "box", "m",
            ["north"], ["road", "car", "truck"], ["vehicle"]);
        return [.. discovery.Configs().Select(c => JsonNode.Parse(c.Payload)!)];
    }

    [Fact]
    public void Class_groups_get_sensors_beside_the_classes_reading_their_mean_share()
    {
        var all = Configs([]);
        Assert.Equal(["north road", "north car", "north truck", "north vehicle"], all.Select(c => c["name"]!.GetValue<string>()));
        Assert.Equal("{{ (value_json.groups['vehicle'].mean * 100) | round(2) }}", all[3]["value_template"]!.GetValue<string>());
        Assert.Equal("{{ (value_json.shares['car'] * 100) | round(2) }}", all[1]["value_template"]!.GetValue<string>());
    }

    [Fact]
    public void A_configured_list_picks_classes_and_groups_alike()
    {
        Assert.Equal(["north road", "north vehicle"], Configs(["road", "vehicle", "bus"]).Select(c => c["name"]!.GetValue<string>()));
    }
}
