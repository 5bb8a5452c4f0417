using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Refinement;
using EdgeSeg.Pipeline.Rendering;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Service.Mqtt;

/// <summary>What a command asks for, once parsed and checked.</summary>
internal sealed record CommandOutcome(bool Accepted, string Key, string? Camera, JsonNode? State, string? Reason);

/// <summary>
/// Commands on <c>&lt;prefix&gt;/&lt;device&gt;/set/&lt;key&gt;</c> and
/// <c>&lt;prefix&gt;/&lt;device&gt;/&lt;camera&gt;/set/&lt;key&gt;</c>. Each is parsed and range-checked
/// before anything changes; an accepted value is applied live on the inference thread and echoed
/// retained on the matching <c>…/state/&lt;key&gt;</c>; a rejected one changes nothing and its reason goes
/// to <c>&lt;prefix&gt;/&lt;device&gt;/error</c>. Nothing a command carries can stop publishing: every
/// failure is an error message.
/// </summary>
internal sealed class RemoteControl : IDisposable
{
    /// <summary>Largest command payload read (a number or a word needs a few bytes).</summary>
    public const int MaxPayloadBytes = 4096;

    public static readonly IReadOnlyList<string> DeviceKeys = ["window_seconds"];

    public static readonly IReadOnlyList<string> CameraKeys = ["crf", "crf_iterations", "max_fps", "snapshot"];

    private readonly SegmentationPipeline _pipeline;
    private readonly MqttStatsPublisher _publisher;
    private readonly LiveCameras _cameras;
    private readonly ILogger _logger;
    private readonly List<IDisposable> _refiners = [];
    private readonly Dictionary<string, RefinementOptions> _crf;
    private readonly Lock _apply = new();

    public RemoteControl(SegmentationPipeline pipeline, MqttStatsPublisher publisher, IReadOnlyList<CameraOptions> cameras, LiveCameras live, ILogger logger)
    {
        _pipeline = pipeline;
        _publisher = publisher;
        _cameras = live;
        _logger = logger;
        // Each camera's refinement as commands have changed it (copies: the configuration stays as loaded).
        _crf = cameras.ToDictionary(c => c.Name, c => c.Refinement with { }, StringComparer.Ordinal);
    }

    /// <summary>Handles one received message (the MQTT client's thread; never blocks on the pipeline).</summary>
    public async Task HandleAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        CommandOutcome outcome;
        try
        {
            // Commands are rare; one at a time keeps two changes to one camera's CRF from interleaving.
            lock (_apply)
            {
                outcome = Apply(topic, payload);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "command on {Topic} failed", topic);
            outcome = new CommandOutcome(false, topic, null, null, $"internal error: {e.Message}");
        }

        if (outcome.Accepted && outcome.State is not null)
        {
            _logger.LogInformation("command {Topic} = {Value}: applied", topic, outcome.State.ToJsonString());
            await _publisher.PublishNowAsync(_publisher.Topics.State(outcome.Camera, outcome.Key), Encoding.UTF8.GetBytes(outcome.State.ToJsonString()), retain: true).ConfigureAwait(false);
        }
        else if (!outcome.Accepted)
        {
            _logger.LogWarning("command on {Topic} refused: {Reason}", topic, outcome.Reason);
            var error = new JsonObject
            {
                ["timestamp"] = StatsPayload.Iso(DateTimeOffset.UtcNow),
                ["topic"] = topic,
                ["key"] = outcome.Key,
                ["camera"] = outcome.Camera,
                ["payload"] = Preview(payload),
                ["reason"] = outcome.Reason,
            };
            await _publisher.PublishNowAsync(_publisher.Topics.Error, Encoding.UTF8.GetBytes(error.ToJsonString()), retain: false).ConfigureAwait(false);
        }
    }

    /// <summary>Parses, checks and (when valid) applies one command.</summary>
    public CommandOutcome Apply(string topic, ReadOnlyMemory<byte> payload)
    {
        var (camera, key) = _publisher.Topics.ParseCommand(topic);
        if (key is null)
        {
            return new(false, topic, camera, null, "not a command topic: expected <prefix>/<device>/set/<key> or <prefix>/<device>/<camera>/set/<key>");
        }

        CameraChannel? channel = null;
        if (camera is not null)
        {
            channel = _pipeline.Cameras.FirstOrDefault(c => c.Name == camera);
            if (channel is null)
            {
                return new(false, key, camera, null, $"unknown camera '{camera}' (cameras: {string.Join(", ", _pipeline.Cameras.Select(c => c.Name))})");
            }

            if (!CameraKeys.Contains(key))
            {
                return new(false, key, camera, null, $"unknown camera key '{key}' (known: {string.Join(", ", CameraKeys)}; device keys: {string.Join(", ", DeviceKeys)})");
            }
        }
        else if (!DeviceKeys.Contains(key))
        {
            return new(false, key, null, null, $"unknown device key '{key}' (known: {string.Join(", ", DeviceKeys)}; camera keys go to <camera>/set/<key>: {string.Join(", ", CameraKeys)})");
        }

        if (payload.Length > MaxPayloadBytes)
        {
            return new(false, key, camera, null, $"payload of {payload.Length} bytes; commands take at most {MaxPayloadBytes}");
        }

        JsonNode? value;
        try
        {
            value = ParseValue(payload.Span);
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException or ArgumentException)
        {
            return new(false, key, camera, null, $"payload is not UTF-8 JSON or a bare word: {e.Message}");
        }

        return key switch
        {
            "window_seconds" => WindowSeconds(value),
            "crf" => Crf(channel!, value),
            "crf_iterations" => CrfIterations(channel!, value),
            "max_fps" => MaxFps(channel!, value),
            "snapshot" => Snapshot(channel!),
            _ => new(false, key, camera, null, $"unknown key '{key}'"),
        };
    }

    public void Dispose()
    {
        foreach (var refiner in _refiners)
        {
            refiner.Dispose();
        }
    }

    private CommandOutcome WindowSeconds(JsonNode? value)
    {
        if (!TryNumber(value, out var seconds) || seconds is < 0.5 or > 3600)
        {
            return new(false, "window_seconds", null, null, $"window_seconds must be a number of seconds in 0.5..3600, got {Show(value)}");
        }

        var policy = WindowPolicy.Seconds(seconds);
        _pipeline.Post(() =>
        {
            foreach (var camera in _pipeline.Cameras)
            {
                camera.Accumulator.Policy = policy;
            }
        });
        return new(true, "window_seconds", null, JsonValue.Create(seconds), null);
    }

    private CommandOutcome Crf(CameraChannel camera, JsonNode? value)
    {
        if (!TryBool(value, out var on))
        {
            return new(false, "crf", camera.Name, null, $"crf must be true or false (or on/off), got {Show(value)}");
        }

        var options = _crf[camera.Name] = _crf[camera.Name] with { Enabled = on };
        _pipeline.SetRefinement(camera, on ? NewStage(options) : null);
        return new(true, "crf", camera.Name, JsonValue.Create(on), null);
    }

    private CommandOutcome CrfIterations(CameraChannel camera, JsonNode? value)
    {
        if (!TryNumber(value, out var n) || n != Math.Floor(n) || n is < 1 or > CrfOptions.MaxIterations)
        {
            return new(false, "crf_iterations", camera.Name, null, $"crf_iterations must be a whole number in 1..{CrfOptions.MaxIterations}, got {Show(value)}");
        }

        var options = _crf[camera.Name] = _crf[camera.Name] with { Iterations = (int)n };
        if (options.Enabled)
        {
            _pipeline.SetRefinement(camera, NewStage(options));
        }

        return new(true, "crf_iterations", camera.Name, JsonValue.Create((int)n), null);
    }

    private CommandOutcome MaxFps(CameraChannel camera, JsonNode? value)
    {
        if (value is null || (value is JsonValue v && v.TryGetValue<string>(out var word) && word is "none" or "off"))
        {
            camera.Worker.MaxFps = null;
            return new(true, "max_fps", camera.Name, JsonValue.Create("none"), null);
        }

        if (!TryNumber(value, out var fps) || fps is <= 0 or > 240)
        {
            return new(false, "max_fps", camera.Name, null, $"max_fps must be a rate in (0, 240] frames per second, or none, got {Show(value)}");
        }

        camera.Worker.MaxFps = fps;
        return new(true, "max_fps", camera.Name, JsonValue.Create(fps), null);
    }

    private CommandOutcome Snapshot(CameraChannel camera)
    {
        if (_cameras.Find(camera.Name) is not { } feed)
        {
            return new(false, "snapshot", camera.Name, null, $"camera '{camera.Name}' is not running");
        }

        _ = PublishSnapshotAsync(feed, _publisher.Topics.Snapshot(camera.Name));
        return new(true, "snapshot", camera.Name, null, null);
    }

    /// <summary>The camera's next overlay (drawn and encoded off the inference thread), to the network.</summary>
    private async Task PublishSnapshotAsync(OverlayFeed feed, string topic)
    {
        try
        {
            var overlay = await feed.NextAsync(CancellationToken.None).ConfigureAwait(false);
            await _publisher.PublishNowAsync(topic, overlay.Jpeg, retain: false).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "camera {Camera}: snapshot failed", feed.Camera.Name);
        }
    }

    private RefinementStage NewStage(RefinementOptions options)
    {
        var refiner = new BilateralCrfRefiner(options);
        lock (_refiners)
        {
            _refiners.Add(refiner);
        }

        return new RefinementStage(refiner, TimeSpan.FromMilliseconds(options.BudgetMs));
    }

    /// <summary>A JSON value, or a bare word taken as a string ("on", "none"); empty is null.</summary>
    private static JsonNode? ParseValue(ReadOnlySpan<byte> payload)
    {
        var text = new UTF8Encoding(false, true).GetString(payload).Trim();
        if (text.Length == 0)
        {
            return null;
        }

        if (text[0] is '{' or '[' or '"' || char.IsDigit(text[0]) || text[0] is '-' or '+' or '.' || text is "true" or "false" or "null")
        {
            return JsonNode.Parse(text);
        }

        return JsonValue.Create(text);
    }

    private static bool TryNumber(JsonNode? value, out double number)
    {
        number = 0;
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            number = v.GetValue<double>();
            return double.IsFinite(number);
        }

        return false;
    }

    private static bool TryBool(JsonNode? value, out bool result)
    {
        result = false;
        if (value is not JsonValue v)
        {
            return false;
        }

        if (v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            result = v.GetValue<bool>();
            return true;
        }

        if (v.TryGetValue<string>(out var word) && word.ToLowerInvariant() is "on" or "off")
        {
            result = word.Equals("on", StringComparison.OrdinalIgnoreCase);
            return true;
        }

        return false;
    }

    private static string Show(JsonNode? value) => value is null ? "nothing" : value.ToJsonString();

    private static string Preview(ReadOnlyMemory<byte> payload)
    {
        var head = payload.Span[..Math.Min(payload.Length, 64)];
        var text = Encoding.UTF8.GetString(head);
        return payload.Length > 64 ? string.Create(CultureInfo.InvariantCulture, $"{text}… ({payload.Length} bytes)") : text;
    }
}
