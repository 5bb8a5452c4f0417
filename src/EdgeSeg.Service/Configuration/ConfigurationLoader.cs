using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        if (Directory.Exists(fullPath))
        {
            throw new ConfigurationException([$"config path '{fullPath}' is a directory, not a file (pass --config PATH/edgeseg.json)"]);
        }

        if (!File.Exists(fullPath))
        {
            throw new ConfigurationException([$"config file '{fullPath}' does not exist (pass --config PATH)"]);
        }

        CheckFile(fullPath);

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

    /// <summary>
    /// Refuses a file that is not UTF-8 or not JSON with the line and column of the first fault (the JSON
    /// configuration provider's own messages name neither, and it reads invalid UTF-8 as replacement
    /// characters without a word).
    /// </summary>
    private static void CheckFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException([$"config file '{path}': cannot be read: {e.Message}"]);
        }

        var text = bytes.AsSpan();
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            text = text[3..];
        }

        try
        {
            _ = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetCharCount(text);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            var at = Math.Clamp(e.Index, 0, text.Length - 1);
            var (line, column) = Position(text[..at]);
            throw new ConfigurationException([$"config file '{path}': not valid UTF-8 at line {line}, column {column} (byte 0x{text[at]:X2}); save it as UTF-8"]);
        }

        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(text.ToArray(), new System.Text.Json.JsonDocumentOptions
            {
                CommentHandling = System.Text.Json.JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (System.Text.Json.JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
            throw new ConfigurationException([$"config file '{path}': not valid JSON at line {(e.LineNumber ?? 0) + 1}, position {(e.BytePositionInLine ?? 0) + 1}: {reason}"]);
        }
    }

    private static (int Line, int Column) Position(ReadOnlySpan<byte> before)
    {
        var line = 1 + before.Count((byte)'\n');
        var lastNewline = before.LastIndexOf((byte)'\n');
        var column = System.Text.Encoding.UTF8.GetCharCount(before[(lastNewline + 1)..]) + 1;
        return (line, column);
    }

    /// <summary>Checks, binds and validates an already built configuration, reporting every problem at once.</summary>
    public static LoadedConfiguration FromConfiguration(IConfiguration config, string baseDirectory, string? sourcePath = null)
    {
        var errors = new List<string>();
        ConfigurationKeyChecker.Check(config, typeof(EdgeSegOptions), errors);
        LoggingSection.Check(config, errors);

        // Unknown keys do not stop the other checks: a file with a typo and a bad value gets both named.
        // The options are built and validated the way the host does it at start (IStartupValidator);
        // the service needs them before the host exists, to load the model it hands the host.
        using var provider = new ServiceCollection().AddEdgeSegOptions(config, baseDirectory).BuildServiceProvider();
        EdgeSegOptions? options = null;
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            options = provider.GetRequiredService<IOptions<EdgeSegOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            errors.AddRange(e.Failures);
        }
        catch (InvalidOperationException e)
        {
            // A value the binder cannot convert (the key checker names the usual ones with their path first).
            errors.Add(e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message);
        }

        if (errors.Count > 0 || options is null)
        {
            throw new ConfigurationException(errors);
        }

        return new LoadedConfiguration(options, config, baseDirectory, options.Model.Path, sourcePath);
    }
}

/// <summary>Validated options with the paths they resolve to.</summary>
public sealed record LoadedConfiguration(
    EdgeSegOptions Options,
    IConfiguration Raw,
    string BaseDirectory,
    string ModelPath,
    string? SourcePath);
