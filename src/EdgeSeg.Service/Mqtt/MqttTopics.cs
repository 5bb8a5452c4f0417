namespace EdgeSeg.Service.Mqtt;

/// <summary>The topic layout: &lt;prefix&gt;/&lt;device&gt;/status and &lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/stats.</summary>
public sealed class MqttTopics
{
    public MqttTopics(string prefix, string deviceId)
    {
        Root = $"{prefix}/{deviceId}";
    }

    public string Root { get; }

    /// <summary>Retained "online" while connected; the broker publishes the retained will "offline" if the box vanishes.</summary>
    public string Status => $"{Root}/status";

    /// <summary>Retained JSON: cameras, counters, execution provider.</summary>
    public string Health => $"{Root}/health";

    public string Stats(string camera) => $"{Root}/{camera}/stats";
}
