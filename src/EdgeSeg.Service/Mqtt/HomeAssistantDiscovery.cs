using System.Text;
using System.Text.Json.Nodes;
using EdgeSeg.Service.Configuration;

namespace EdgeSeg.Service.Mqtt;

/// <summary>
/// Home Assistant MQTT discovery: the box is one device; each camera and class (or class group) is a
/// sensor (its share of the view in %, state class measurement) read from the camera's stats topic, available while the
/// box's status topic says "online". Configs are retained; a config this box published earlier for a
/// camera or class it no longer has is removed (an empty retained message), so a removed camera leaves
/// no dead entities behind.
/// </summary>
public sealed class HomeAssistantDiscovery(
    HomeAssistantOptions options, MqttTopics topics, string deviceId, string model, IReadOnlyList<string> cameras, IReadOnlyList<string> classes,
    IReadOnlyList<string>? groups = null)
{
    private readonly IReadOnlyList<string> _groups = groups ?? [];

    /// <summary>Node id in discovery topics: edgeseg_&lt;device&gt; with anything but [A-Za-z0-9_-] made '_'.</summary>
    public string NodeId { get; } = "edgeseg_" + Clean(deviceId);

    /// <summary>The filter that matches every config this box may have published.</summary>
    public string OwnFilter => $"{OwnPrefix}+/config";

    /// <summary>The topic level prefix under which those configs live.</summary>
    public string OwnPrefix => $"{options.DiscoveryPrefix}/sensor/{NodeId}/";

    /// <summary>The classes that get sensors: the configured ones that the model has, or all.</summary>
    public IReadOnlyList<string> Classes => options.Classes.Count == 0 ? classes : [.. options.Classes.Where(classes.Contains)];

    /// <summary>The class groups that get sensors: the configured ones, or all.</summary>
    public IReadOnlyList<string> Groups => options.Classes.Count == 0 ? _groups : [.. options.Classes.Where(_groups.Contains)];

    /// <summary>Every (topic, payload) this box's discovery consists of now.</summary>
    public IEnumerable<(string Topic, byte[] Payload)> Configs()
    {
        foreach (var camera in cameras)
        {
            foreach (var (name, group) in Classes.Select(c => (c, false)).Concat(Groups.Select(g => (g, true))))
            {
                var objectId = Clean($"{camera}_{name}");
                var config = new JsonObject
                {
                    ["name"] = $"{camera} {name}",
                    ["unique_id"] = $"{NodeId}_{objectId}",
                    ["object_id"] = $"{NodeId}_{objectId}",
                    ["state_topic"] = topics.Stats(camera),
                    ["value_template"] = group
                        ? $"{{{{ (value_json.groups['{name}'].mean * 100) | round(2) }}}}"
                        : $"{{{{ (value_json.shares['{name}'] * 100) | round(2) }}}}",
                    ["unit_of_measurement"] = "%",
                    ["state_class"] = "measurement",
                    ["icon"] = "mdi:image-filter-center-focus",
                    ["availability_topic"] = topics.Status,
                    ["payload_available"] = "online",
                    ["payload_not_available"] = "offline",
                    ["device"] = new JsonObject
                    {
                        ["identifiers"] = new JsonArray(NodeId),
                        ["name"] = $"EdgeSeg {deviceId}",
                        ["manufacturer"] = "EdgeSeg",
                        ["model"] = model,
                    },
                };
                yield return (ConfigTopic(objectId), Encoding.UTF8.GetBytes(config.ToJsonString()));
            }
        }
    }

    /// <summary>Of the config topics seen retained on the broker, those to remove (not in <see cref="Configs"/>).</summary>
    public IEnumerable<string> Stale(IEnumerable<string> retained)
    {
        var current = Configs().Select(c => c.Topic).ToHashSet(StringComparer.Ordinal);
        return retained.Where(t => !current.Contains(t)).Distinct();
    }

    private string ConfigTopic(string objectId) => $"{OwnPrefix}{objectId}/config";

    private static string Clean(string text)
    {
        var b = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            b.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return b.ToString();
    }
}
