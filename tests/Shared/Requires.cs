namespace EdgeSeg.Tests.Shared;

/// <summary>
/// What an integration test needs from the machine. Where it is missing, the test is reported as
/// skipped with the reason and the package that brings it, rather than failing on a missing program
/// (only inside <c>[SkippableFact]</c> / <c>[SkippableTheory]</c> tests). test.sh installs them all,
/// so on CI nothing is skipped for this.
/// </summary>
internal static class Requires
{
    /// <summary>Skips unless <paramref name="program"/> is on PATH (or in /usr/sbin, /sbin); returns its path.</summary>
    public static string Program(string program, string package)
    {
        var found = Find(program);
        Skip.If(found is null, $"{program} is not installed (scripts/install-deps.sh test installs Debian's '{package}')");
        return found!;
    }

    /// <summary>ffmpeg and ffprobe, through which network cameras are read.</summary>
    public static void Ffmpeg()
    {
        Program("ffmpeg", "ffmpeg");
        Program("ffprobe", "ffmpeg");
    }

    /// <summary>The mosquitto broker's executable.</summary>
    public static string Mosquitto() => Program("mosquitto", "mosquitto");

    /// <summary>The full path of <paramref name="program"/>, or null.</summary>
    public static string? Find(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Append("/sbin")
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
    }
}
