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

    /// <summary>Occupancy starts and ends (spooled, not retained).</summary>
    public string Events(string camera) => $"{Root}/{camera}/events";

    /// <summary>Retained JSON: the camera's state (streaming, connecting, …), since when, and its last error.</summary>
    public string CameraStatus(string camera) => $"{Root}/{camera}/status";

    /// <summary>JPEG overlay with legend, published once per snapshot command.</summary>
    public string Snapshot(string camera) => $"{Root}/{camera}/snapshot";

    /// <summary>Refused commands, with the reason (not retained).</summary>
    public string Error => $"{Root}/error";

    /// <summary>Where an accepted command's value is echoed, retained.</summary>
    public string State(string? camera, string key) => camera is null ? $"{Root}/state/{key}" : $"{Root}/{camera}/state/{key}";

    /// <summary>The filters the service subscribes to for commands.</summary>
    public IReadOnlyList<string> CommandFilters => [$"{Root}/set/+", $"{Root}/+/set/+"];

    /// <summary>(camera or null, key) of a command topic; key null when the topic is not one.</summary>
    public (string? Camera, string? Key) ParseCommand(string topic)
    {
        if (!topic.StartsWith(Root + "/", StringComparison.Ordinal))
        {
            return (null, null);
        }

        var parts = topic[(Root.Length + 1)..].Split('/');
        return parts switch
        {
            ["set", var key] when key.Length > 0 => (null, key),
            [var camera, "set", var key] when key.Length > 0 && camera.Length > 0 => (camera, key),
            _ => (null, null),
        };
    }
}
