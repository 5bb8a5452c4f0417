namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>
/// A real browser for the tests: Debian's <c>chromium</c> (scripts/install-deps.sh test installs it) run
/// headless, loading a page, running its scripts for a while of virtual time, and printing the DOM.
/// </summary>
internal static class HeadlessChromium
{
    /// <summary>The browser's executable, or null when none is installed.</summary>
    public static string? Executable { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    /// <summary>The DOM of <paramref name="url"/> after its scripts have had <paramref name="scriptTime"/> of (virtual) time.</summary>
    public static async Task<string> DumpDomAsync(string url, TimeSpan scriptTime, TimeSpan timeout)
    {
        var exe = Executable ?? throw new InvalidOperationException("chromium is not installed (scripts/install-deps.sh test)");
        // --no-sandbox: tests may run as root, where Chromium's sandbox refuses to start.
        var result = await EdgesegProcess.RunProgramAsync(
            exe,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", $"--user-data-dir={TestFiles.NewTempDirectory()}",
                $"--virtual-time-budget={(int)scriptTime.TotalMilliseconds}", "--dump-dom", url,
            ],
            timeout,
            $"chromium on {url}");
        Assert.True(result.ExitCode == 0, $"chromium exited with {result.ExitCode}: {result.Error}");
        return result.Output;
    }
}

/// <summary>A fact that needs a real browser: skipped, with the reason, where Chromium is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.Executable is null)
        {
            Skip = "chromium is not installed (scripts/install-deps.sh test installs Debian's chromium)";
        }
    }
}
