using Microsoft.Extensions.Configuration;

namespace EdgeSeg.Service.Configuration;

/// <summary>The configuration is unusable; <see cref="Errors"/> lists every problem with its path.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<string> errors)
        : base("invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
    {
        Errors = errors;
    }

    public ConfigurationException()
        : this([])
    {
    }

    public ConfigurationException(string message)
        : this([message])
    {
    }

    public ConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
        Errors = [message];
    }

    public IReadOnlyList<string> Errors { get; }
}

/// <summary>Reads, checks, binds and validates the appliance configuration.</summary>
public static class ConfigurationLoader
{
    /// <summary>Prefix of environment overrides: EDGESEG_Mqtt__Host=broker.local.</summary>
    public const string EnvironmentPrefix = "EDGESEG_";

    public const string DefaultPath = "/etc/edgeseg/edgeseg.json";

    /// <summary>
    /// Loads <paramref name="path"/> plus environment overrides. Throws <see cref="ConfigurationException"/>
    /// listing every problem at once.
    /// </summary>
    public static LoadedConfiguration Load(string path, IDictionary<string, string?>? environment = null)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new ConfigurationException([$"config file '{fullPath}' does not exist (pass --config PATH)"]);
        }

        var builder = new ConfigurationBuilder().AddJsonFile(fullPath, optional: false, reloadOnChange: false);
        if (environment is null)
        {
            builder.AddEnvironmentVariables(EnvironmentPrefix);
        }
        else
        {
            // Tests pass their own environment; the same convention is applied by hand.
            builder.AddInMemoryCollection(environment
                .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                .Select(kv => KeyValuePair.Create(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        }

        IConfigurationRoot config;
        try
        {
            config = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ConfigurationException([$"config file '{fullPath}': not valid JSON: {e.Message}"]);
        }

        return FromConfiguration(config, Path.GetDirectoryName(fullPath)!, fullPath);
    }

    /// <summary>Checks, binds and validates an already built configuration.</summary>
    public static LoadedConfiguration FromConfiguration(IConfiguration config, string baseDirectory, string? sourcePath = null)
    {
        var errors = new List<string>();
        ConfigurationKeyChecker.Check(config, typeof(EdgeSegOptions), errors);
        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        var options = new EdgeSegOptions();
        try
        {
            config.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException([e.Message]);
        }

        var modelPath = EdgeSegOptionsValidator.Validate(options, baseDirectory, errors);
        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        return new LoadedConfiguration(options, config, baseDirectory, modelPath!, sourcePath);
    }
}

/// <summary>Validated options with the paths they resolve to.</summary>
public sealed record LoadedConfiguration(
    EdgeSegOptions Options,
    IConfiguration Raw,
    string BaseDirectory,
    string ModelPath,
    string? SourcePath);
