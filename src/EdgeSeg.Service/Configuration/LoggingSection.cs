using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// Checks the standard <c>Logging</c> section before the host reads it: the host would otherwise throw
/// on a bad level at start (exit 1 and a stack trace, which systemd's Restart=on-failure turns into a
/// restart loop) and silently ignore a section of the wrong shape.
/// </summary>
internal static class LoggingSection
{
    private static readonly string Levels = string.Join(", ", Enum.GetNames<LogLevel>());

    public static void Check(IConfiguration config, List<string> errors)
    {
        var section = config.GetSection("Logging");
        if (section.Value is { } scalar)
        {
            errors.Add($"Logging: must be an object such as {{\"LogLevel\": {{\"Default\": \"Information\"}}}}, got '{scalar}'");
            return;
        }

        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            var parts = key.Split(':');
            var isLevel = parts.Length >= 2 && (string.Equals(parts[0], "LogLevel", StringComparison.OrdinalIgnoreCase)
                || (parts.Length >= 3 && string.Equals(parts[1], "LogLevel", StringComparison.OrdinalIgnoreCase)));
            if (string.Equals(parts[0], "LogLevel", StringComparison.OrdinalIgnoreCase) && parts.Length == 1 && value is not null)
            {
                errors.Add($"Logging.LogLevel: must be an object of category → level, such as {{\"Default\": \"Information\"}}, got '{value}'");
                continue;
            }

            if (!isLevel || value is null)
            {
                continue;
            }

            if (!Enum.TryParse<LogLevel>(value, ignoreCase: true, out var level) || !Enum.IsDefined(level) || int.TryParse(value, out _))
            {
                errors.Add($"Logging.{key.Replace(':', '.')}: '{value}' is not a log level (use one of {Levels})");
            }
        }
    }
}
