using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeSeg.Service.Cli;

/// <summary>
/// <c>edgeseg demo</c>: the bundled default end to end. A synthetic street (or the given source) through the
/// bundled model, statistics published to MQTT — to an in-process broker when nothing listens on the
/// port — and read back by a separate MQTT client that prints each message.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultSource = "synthetic://street?seed=7&size=1024x512&fps=15";

    public static Command Create()
    {
        var seconds = new Option<double>("--seconds", "-s")
        {
            Description = "Stop after this many seconds (Ctrl+C stops earlier)",
            DefaultValueFactory = _ => 30,
        };
        var source = new Option<string>("--source")
        {
            Description = "Camera source URI",
            DefaultValueFactory = _ => DefaultSource,
        };
        var model = new Option<string>("--model", "-m") { Description = "ONNX model (default: the bundled one)" };
        var port = new Option<int>("--port")
        {
            Description = "MQTT port on 127.0.0.1; a broker is started in-process when none listens there",
            DefaultValueFactory = _ => 1883,
        };
        var window = new Option<double>("--window")
        {
            Description = "Statistics window in seconds",
            DefaultValueFactory = _ => 2,
        };
        var crf = new Option<bool>("--crf") { Description = "Refine masks with the dense CRF (5 iterations)" };
        var threads = new Option<int>("--threads")
        {
            Description = "Model CPU threads, as Model.Threads (0 = all cores)",
            DefaultValueFactory = _ => 0,
        };
        var command = new Command("demo", "Show EdgeSeg working on the bundled default: no camera or broker needed")
        {
            seconds, source, model, port, window, crf, threads,
        };
        command.SetAction((parse, token) => RunAsync(
            parse.GetValue(seconds), parse.GetValue(source)!, parse.GetValue(model), parse.GetValue(port), parse.GetValue(window),
            parse.GetValue(crf), parse.GetValue(threads), token));
        return command;
    }

    private static async Task<int> RunAsync(double seconds, string source, string? model, int port, double window, bool crf, int threads, CancellationToken token)
    {
        if (!double.IsFinite(seconds) || seconds <= 0)
        {
            await Console.Error.WriteLineAsync($"edgeseg demo: --seconds must be positive, got {seconds}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var settings = new Dictionary<string, string?>
        {
            ["DeviceId"] = "demo",
            ["Model:Path"] = model ?? string.Empty,
            ["Model:Threads"] = threads.ToString(CultureInfo.InvariantCulture),
            ["Cameras:0:Name"] = "street",
            ["Cameras:0:Source"] = source,
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Mqtt:SpoolPath"] = string.Empty, // a demo's windows need not outlive it
            ["Statistics:WindowSeconds"] = window.ToString(CultureInfo.InvariantCulture),
            ["Cameras:0:Refinement:Enabled"] = crf ? "true" : "false",
        };
        LoadedConfiguration config;
        try
        {
            config = ConfigurationLoader.FromConfiguration(
                new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), Directory.GetCurrentDirectory());
        }
        catch (ConfigurationException e)
        {
            AppStartup.ReportConfigurationErrors(e, Console.Error);
            return ExitCodes.Config;
        }

        await using var broker = await StartBrokerIfNeededAsync(port, token).ConfigureAwait(false);
        Console.WriteLine($"Loading model {config.ModelPath} …");
        using var segmenter = AppStartup.LoadModel(config, Console.Error);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        Console.WriteLine($"Model: {segmenter.Model} on {segmenter.Provider}");
        Console.WriteLine($"Source: {source}");
        Console.WriteLine($"Publishing to mqtt://127.0.0.1:{port}/edgeseg/demo/… ({(broker is null ? "existing broker" : "in-process broker")}) for {seconds:0.#} s");
        Console.WriteLine();

        var received = 0;
        var summary = new DemoSummary();
        using var subscriber = new MqttClientFactory().CreateMqttClient();
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            var line = Describe(topic, e.ApplicationMessage.ConvertPayloadToString(), summary);
            if (line is not null)
            {
                if (topic.EndsWith("/stats", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref received);
                }

                Console.WriteLine(line);
            }

            return Task.CompletedTask;
        };
        await subscriber.ConnectAsync(
            new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"edgeseg-demo-viewer-{Environment.ProcessId}").Build(),
            token).ConfigureAwait(false);
        await subscriber.SubscribeAsync("edgeseg/demo/#", cancellationToken: token).ConfigureAwait(false);

        using var refinements = AppStartup.Cameras(config, segmenter, Console.Error);
        if (refinements is null)
        {
            return ExitCodes.Config;
        }

        using var host = ServiceHost.Build(config, segmenter, refinements, LogLevel.Warning);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        await host.RunAsync(stop.Token).ConfigureAwait(false);
        await subscriber.DisconnectAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);

        Console.WriteLine();
        Console.WriteLine($"{received} statistics windows received over MQTT.");
        if (summary.Line() is { } closing)
        {
            Console.WriteLine(closing);
        }

        return received > 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static async Task<DemoBroker?> StartBrokerIfNeededAsync(int port, CancellationToken token)
    {
        if (await DemoBroker.IsListeningAsync("127.0.0.1", port, token).ConfigureAwait(false))
        {
            return null;
        }

        return await DemoBroker.StartAsync(port).ConfigureAwait(false);
    }

    /// <summary>
    /// One readable line for a stats message; status lines as they are; null for other topics. A stats
    /// message's rate and model time also go to <paramref name="summary"/> when one is given.
    /// </summary>
    internal static string? Describe(string topic, string payload, DemoSummary? summary = null)
    {
        if (topic.EndsWith("/status", StringComparison.Ordinal))
        {
            return $"{topic} = {payload}";
        }

        if (!topic.EndsWith("/stats", StringComparison.Ordinal))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement;
        var text = new StringBuilder();
        var time = DateTimeOffset.Parse(root.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture);
        text.Append(CultureInfo.InvariantCulture, $"{time:HH:mm:ss} {root.GetProperty("camera").GetString()} #{root.GetProperty("seq").GetInt64(),-3} ");
        var fps = root.GetProperty("fps").GetDouble();
        var inferenceMs = root.GetProperty("inference_ms").GetProperty("p50").GetDouble();
        summary?.Add(fps, inferenceMs);
        text.Append(CultureInfo.InvariantCulture, $"{fps,5:0.0} fps  ");
        text.Append(CultureInfo.InvariantCulture, $"infer {inferenceMs,4:0} ms  |");
        if (root.GetProperty("window").GetProperty("refinement_skips").GetInt64() is > 0 and var skips)
        {
            text.Insert(text.Length - 1, string.Create(CultureInfo.InvariantCulture, $"crf skipped {skips}  "));
        }

        var shares = root.GetProperty("shares").EnumerateObject()
            .Select(p => (p.Name, Share: p.Value.GetDouble()))
            .Where(p => p.Share >= 0.005)
            .OrderByDescending(p => p.Share);
        foreach (var (name, share) in shares)
        {
            text.Append(CultureInfo.InvariantCulture, $" {name} {share * 100:0.0}%");
        }

        return text.ToString();
    }
}

/// <summary>The demo's closing line: the mean rate and the median model time of the windows received.</summary>
internal sealed class DemoSummary
{
    private readonly List<(double Fps, double InferenceMs)> _windows = [];

    public void Add(double fps, double inferenceMs)
    {
        lock (_windows)
        {
            _windows.Add((fps, inferenceMs));
        }
    }

    /// <summary>The summary, leaving out the first window (it holds the warm-up) when there are others; null before any.</summary>
    public string? Line()
    {
        lock (_windows)
        {
            var counted = _windows.Skip(_windows.Count > 1 ? 1 : 0).ToList();
            if (counted.Count == 0)
            {
                return null;
            }

            var ms = counted.Select(w => w.InferenceMs).Order().ToArray();
            return string.Create(CultureInfo.InvariantCulture,
                $"Segmented {counted.Average(w => w.Fps):0.0} fps on average, inference p50 {ms[ms.Length / 2]:0} ms (median of {ms.Length} windows after the first).");
        }
    }
}
