using EdgeSeg.Pipeline.Capture;
using Microsoft.Extensions.Options;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// The rules of bound options that one field's attribute cannot say: across fields, against files,
/// sources and the model. Every problem is collected, each naming its path (<c>Cameras[1].Source</c>)
/// and what would be accepted. Runs after <see cref="ResolveOptionPaths"/>, so paths are absolute.
/// </summary>
internal sealed class EdgeSegOptionsValidator(string baseDirectory) : IValidateOptions<EdgeSegOptions>
{
    public ValidateOptionsResult Validate(string? name, EdgeSegOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Validate(options, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private void Validate(EdgeSegOptions o, List<string> errors)
    {
        if (!File.Exists(o.Model.Path))
        {
            errors.Add($"Model.Path: model file '{o.Model.Path}' does not exist");
        }

        if (o.HomeAssistant.Enabled)
        {
            TopicLevel("HomeAssistant.DiscoveryPrefix", o.HomeAssistant.DiscoveryPrefix, errors);
            for (var i = 0; i < o.HomeAssistant.Classes.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(o.HomeAssistant.Classes[i]))
                {
                    errors.Add($"HomeAssistant.Classes[{i}]: must not be empty");
                }
            }
        }

        if (o.Model.Providers.Distinct().Count() != o.Model.Providers.Count)
        {
            errors.Add("Model.Providers: a provider is listed twice");
        }

        if (o.Cameras.Count == 0)
        {
            errors.Add("Cameras: at least one camera is required");
        }

        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < o.Cameras.Count; i++)
        {
            var camera = o.Cameras[i];
            var path = $"Cameras[{i}]";
            if (camera is null)
            {
                errors.Add($"{path}: empty camera entry");
                continue;
            }

            if (camera.Name is "set" or "state" or "error" or "status" or "health")
            {
                errors.Add($"{path}.Name: '{camera.Name}' is a topic level the service uses itself (set, state, error, status, health); choose another name");
            }
            else if (TopicLevel($"{path}.Name", camera.Name, errors) && !names.TryAdd(camera.Name, i))
            {
                errors.Add($"{path}.Name: '{camera.Name}' is already the name of Cameras[{names[camera.Name]}]; names must be unique");
            }

            if (string.IsNullOrWhiteSpace(camera.Source))
            {
                errors.Add($"{path}.Source: required (e.g. file:///videos/north.mp4?loop=true, v4l2:///dev/video0, synthetic://street)");
            }
            else if (FrameSourceFactory.Validate(camera.Source, baseDirectory) is { } problem)
            {
                errors.Add($"{path}.Source: {problem}");
            }

            if (camera.Refinement is { } refinement)
            {
                // The refiner's own rules, kept with its parameters in the pipeline.
                errors.AddRange(refinement.Validate().Select(e => $"{path}.Refinement.{e}"));
            }
        }

        AreaConfiguration.Validate(o, errors);
        var mqtt = o.Mqtt;
        if (string.IsNullOrWhiteSpace(mqtt.Host))
        {
            errors.Add("Mqtt.Host: required");
        }
        else if (mqtt.Host.Any(char.IsWhiteSpace) || mqtt.Host.Contains('/', StringComparison.Ordinal))
        {
            errors.Add($"Mqtt.Host: '{mqtt.Host}' is not a host name or address");
        }

        var passwords = new[] { mqtt.Password.Length > 0, mqtt.PasswordFile.Length > 0, mqtt.PasswordCredential.Length > 0 }.Count(x => x);
        if (passwords > 1)
        {
            errors.Add("Mqtt: give at most one of Password, PasswordFile and PasswordCredential");
        }

        if (passwords > 0 && mqtt.Username.Length == 0)
        {
            errors.Add("Mqtt.Username: required when a password is given");
        }

        if (mqtt.PasswordFile.Length > 0)
        {
            if (ReadableProblem(mqtt.PasswordFile) is { } problem)
            {
                errors.Add($"Mqtt.PasswordFile: {problem}");
            }
        }

        if (mqtt.PasswordCredential.Length > 0)
        {
            var dir = Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY");
            if (string.IsNullOrEmpty(dir))
            {
                errors.Add($"Mqtt.PasswordCredential: no systemd credentials here ($CREDENTIALS_DIRECTORY is not set; add LoadCredential={mqtt.PasswordCredential}:/path/to/file to the unit)");
            }
            else if (mqtt.PasswordCredential.Contains('/', StringComparison.Ordinal) || ReadableProblem(Path.Combine(dir, mqtt.PasswordCredential)) is not null)
            {
                errors.Add($"Mqtt.PasswordCredential: credential '{mqtt.PasswordCredential}' is not readable in {dir}");
            }
        }

        foreach (var (key, value) in new[] { ("CaFile", mqtt.CaFile), ("ClientCertificateFile", mqtt.ClientCertificateFile), ("ClientKeyFile", mqtt.ClientKeyFile) })
        {
            if (value.Length == 0)
            {
                continue;
            }

            if (!mqtt.UseTls)
            {
                errors.Add($"Mqtt.{key}: needs Mqtt.UseTls = true");
            }
            else if (ReadableProblem(value) is { } problem)
            {
                errors.Add($"Mqtt.{key}: {problem}");
            }
        }

        if ((mqtt.ClientCertificateFile.Length > 0) != (mqtt.ClientKeyFile.Length > 0))
        {
            errors.Add("Mqtt.ClientCertificateFile, Mqtt.ClientKeyFile: give both or neither");
        }

        if (mqtt.AllowUntrustedCertificates && !mqtt.UseTls)
        {
            errors.Add("Mqtt.AllowUntrustedCertificates: needs Mqtt.UseTls = true");
        }

        if (mqtt.SpoolPath.Length > 0)
        {
            if (WritableProblem(mqtt.SpoolPath) is { } problem)
            {
                errors.Add($"Mqtt.SpoolPath: {problem} (run as the edgeseg user, point it at a writable place, or set it to \"\" to keep the spool in memory)");
            }
        }

        if (mqtt.Password.Length > 0 && mqtt.Username.Length == 0)
        {
            errors.Add("Mqtt.Password: set without Mqtt.Username");
        }

        var stats = o.Statistics;
        if (stats.WindowFrames == 0 && (!double.IsFinite(stats.WindowSeconds) || stats.WindowSeconds <= 0 || stats.WindowSeconds > 86400))
        {
            errors.Add($"Statistics.WindowSeconds: must be above 0 and at most 86400, got {stats.WindowSeconds}");
        }

        if (o.Http.Enabled)
        {
            ValidateHttp(o.Http, o.Cameras, errors);
        }
    }

    private static void ValidateHttp(HttpOptions http, List<CameraOptions> cameras, List<string> errors)
    {
        if (!System.Net.IPAddress.TryParse(http.Listen, out _))
        {
            errors.Add($"Http.Listen: '{http.Listen}' is not an IP address (127.0.0.1 for this box only, 0.0.0.0 or :: for every interface)");
        }

        if (http.Port is < 1 or > 65535)
        {
            errors.Add($"Http.Port: must be 1..65535, got {http.Port}");
        }

        if (!double.IsFinite(http.StreamMaxFps) || http.StreamMaxFps is <= 0 or > 30)
        {
            errors.Add($"Http.StreamMaxFps: must be above 0 and at most 30 frames per second, got {http.StreamMaxFps.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (!double.IsFinite(http.StallSeconds) || http.StallSeconds is < 1 or > 86400)
        {
            errors.Add($"Http.StallSeconds: must be 1..86400 seconds, got {http.StallSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            return;
        }

        // Healthy means some camera's frame within the window: when every camera is rate-limited, the
        // fastest must fit two frames into it, or a healthy box would flap between 200 and 503.
        var rates = cameras.Where(c => c is not null).Select(c => c.MaxFps).ToList();
        if (rates.Count > 0 && rates.All(r => r is > 0) && rates.Max() is { } fastest && 2 / fastest > http.StallSeconds)
        {
            var index = cameras.FindIndex(c => c?.MaxFps == fastest);
            errors.Add(string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"Http.StallSeconds: {http.StallSeconds} s is shorter than two frame intervals of the fastest camera (Cameras[{index}].MaxFps {fastest} -> {2 / fastest:0.#} s); raise it or the camera's MaxFps"));
        }
    }

    /// <summary>
    /// Empty: the bundled model. Relative: the config file's folder first, then the install folder
    /// (where the bundled models live), so both "models/x.onnx" and "/abs/x.onnx" work.
    /// </summary>
    public static string ResolveModelPath(string configured, string baseDirectory)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return BundledModel.DefaultPath;
        }

        if (Path.IsPathRooted(configured))
        {
            return configured;
        }

        var beside = Path.GetFullPath(configured, baseDirectory);
        return File.Exists(beside) ? beside : Path.GetFullPath(configured, AppContext.BaseDirectory);
    }

    /// <summary>Why <paramref name="path"/> cannot be read as a file, or null when it can.</summary>
    private static string? ReadableProblem(string path)
    {
        if (Directory.Exists(path))
        {
            return $"'{path}' is a directory, not a file";
        }

        try
        {
            using var _ = File.OpenRead(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read '{path}': {e.Message}";
        }
    }

    /// <summary>Why a file cannot be created or written at <paramref name="path"/>, or null when it can.</summary>
    private static string? WritableProblem(string path)
    {
        if (Directory.Exists(path))
        {
            return $"'{path}' is a directory; give a file name such as {Path.Combine(path, "spool.db")}";
        }

        var dir = Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".edgeseg-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot write in '{dir}': {e.Message}";
        }
    }

    /// <summary>A value used as one MQTT topic level where an attribute cannot say it (conditional, or per entry).</summary>
    private static bool TopicLevel(string path, string value, List<string> errors)
    {
        if (TopicLevelAttribute.Problem(value) is { } problem)
        {
            errors.Add($"{path}: {problem}");
            return false;
        }

        return true;
    }
}

/// <summary>Where the model shipped with EdgeSeg is installed.</summary>
public static class BundledModel
{
    /// <summary>
    /// The default: the INT8 model, which on held-out streets stays within the accuracy bound of the
    /// float one (README, "The quantized model") and runs faster on the CPU; TensorRT takes the same file.
    /// </summary>
    public const string FileName = "deeplabv3_mnv3_street_512x256.int8.onnx";

    /// <summary>The float original the INT8 model is quantized from.</summary>
    public const string FloatFileName = "deeplabv3_mnv3_street_512x256.onnx";

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "models", FileName);

    public static string FloatPath => Path.Combine(AppContext.BaseDirectory, "models", FloatFileName);
}
