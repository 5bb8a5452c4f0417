using EdgeSeg.Pipeline.Capture;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// Cross-field checks of bound options. Every problem is collected, each naming its path
/// (<c>Cameras[1].Source</c>) and what would be accepted.
/// </summary>
public static class EdgeSegOptionsValidator
{
    /// <summary>Validates <paramref name="o"/>; returns the model path it resolves to (null on error).</summary>
    public static string? Validate(EdgeSegOptions o, string baseDirectory, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(errors);
        TopicLevel("DeviceId", o.DeviceId, errors);

        var modelPath = ResolveModelPath(o.Model.Path, baseDirectory);
        if (!File.Exists(modelPath))
        {
            errors.Add($"Model.Path: model file '{modelPath}' does not exist");
        }

        if (o.Model.Threads is < 0 or > 256)
        {
            errors.Add($"Model.Threads: must be 0 (all cores) .. 256, got {o.Model.Threads}");
        }

        if (o.Model.DeviceId < 0)
        {
            errors.Add($"Model.DeviceId: must be 0 or more, got {o.Model.DeviceId}");
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

        if (o.Model.TensorRT.WorkspaceMiB is < 16 or > 65536)
        {
            errors.Add($"Model.TensorRT.WorkspaceMiB: must be 16..65536, got {o.Model.TensorRT.WorkspaceMiB}");
        }

        if (o.Model.TensorRT.BuilderOptimizationLevel is < 0 or > 5)
        {
            errors.Add($"Model.TensorRT.BuilderOptimizationLevel: must be 0..5, got {o.Model.TensorRT.BuilderOptimizationLevel}");
        }

        if (o.Model.TensorRT.DlaCore is < -1 or > 7)
        {
            errors.Add($"Model.TensorRT.DlaCore: must be -1 (GPU) or a DLA core 0..7, got {o.Model.TensorRT.DlaCore}");
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

            if (camera.MaxFps is { } fps && (!double.IsFinite(fps) || fps <= 0 || fps > 240))
            {
                errors.Add($"{path}.MaxFps: must be above 0 and at most 240 frames per second, got {fps}");
            }

            if (camera.Refinement is { } refinement)
            {
                errors.AddRange(refinement.ToCrfOptions().Validate().Select(e => $"{path}.Refinement.{e}"));
                if (!double.IsFinite(refinement.BudgetMs) || refinement.BudgetMs is <= 0 or > 10_000)
                {
                    errors.Add($"{path}.Refinement.BudgetMs: must be above 0 and at most 10000 ms, got {refinement.BudgetMs}");
                }
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

        if (mqtt.Port is < 1 or > 65535)
        {
            errors.Add($"Mqtt.Port: must be 1..65535, got {mqtt.Port}");
        }

        TopicLevel("Mqtt.TopicPrefix", mqtt.TopicPrefix, errors);
        if (mqtt.KeepAliveSeconds is < 5 or > 3600)
        {
            errors.Add($"Mqtt.KeepAliveSeconds: must be 5..3600, got {mqtt.KeepAliveSeconds}");
        }

        if (mqtt.ProtocolVersion is not ("5" or "3.1.1"))
        {
            errors.Add($"Mqtt.ProtocolVersion: must be \"5\" or \"3.1.1\", got '{mqtt.ProtocolVersion}'");
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
            mqtt.PasswordFile = Path.GetFullPath(mqtt.PasswordFile, baseDirectory);
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

        foreach (var (key, value, set) in new (string, string, Action<string>)[]
                 {
                     ("CaFile", mqtt.CaFile, v => mqtt.CaFile = v),
                     ("ClientCertificateFile", mqtt.ClientCertificateFile, v => mqtt.ClientCertificateFile = v),
                     ("ClientKeyFile", mqtt.ClientKeyFile, v => mqtt.ClientKeyFile = v),
                 })
        {
            if (value.Length == 0)
            {
                continue;
            }

            var full = Path.GetFullPath(value, baseDirectory);
            set(full);
            if (!mqtt.UseTls)
            {
                errors.Add($"Mqtt.{key}: needs Mqtt.UseTls = true");
            }
            else if (ReadableProblem(full) is { } problem)
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

        if (mqtt.SpoolMaxAgeHours is < 0.01 or > 8760 || double.IsNaN(mqtt.SpoolMaxAgeHours))
        {
            errors.Add($"Mqtt.SpoolMaxAgeHours: must be 0.01..8760 hours, got {mqtt.SpoolMaxAgeHours.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (mqtt.SpoolPath.Length > 0)
        {
            mqtt.SpoolPath = Path.GetFullPath(mqtt.SpoolPath, baseDirectory);
            if (WritableProblem(mqtt.SpoolPath) is { } problem)
            {
                errors.Add($"Mqtt.SpoolPath: {problem} (run as the edgeseg user, point it at a writable place, or set it to \"\" to keep the spool in memory)");
            }
        }

        if (mqtt.SpoolCapacity is < 1 or > 1_000_000)
        {
            errors.Add($"Mqtt.SpoolCapacity: must be 1..1000000 messages, got {mqtt.SpoolCapacity}");
        }

        if (mqtt.Password.Length > 0 && mqtt.Username.Length == 0)
        {
            errors.Add("Mqtt.Password: set without Mqtt.Username");
        }

        var stats = o.Statistics;
        if (stats.WindowFrames < 0)
        {
            errors.Add($"Statistics.WindowFrames: must be 0 (use WindowSeconds) or more, got {stats.WindowFrames}");
        }

        if (stats.WindowFrames == 0 && (!double.IsFinite(stats.WindowSeconds) || stats.WindowSeconds <= 0 || stats.WindowSeconds > 86400))
        {
            errors.Add($"Statistics.WindowSeconds: must be above 0 and at most 86400, got {stats.WindowSeconds}");
        }

        if (o.Http.Enabled)
        {
            ValidateHttp(o.Http, o.Cameras, errors);
        }

        return File.Exists(modelPath) ? modelPath : null;
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

    /// <summary>A value used as one MQTT topic level: non-empty, no separators or wildcards.</summary>
    private static bool TopicLevel(string path, string value, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{path}: required, must not be empty");
            return false;
        }

        if (value.Any(c => c is '/' or '+' or '#' or '\0' || char.IsWhiteSpace(c) || char.IsControl(c)) || value.Length > 64)
        {
            errors.Add($"{path}: '{value}' must be 1..64 characters without '/', '+', '#' or spaces (it is an MQTT topic level)");
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
