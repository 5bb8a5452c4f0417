namespace EdgeSeg.Pipeline.Capture;

/// <summary>Finds the decoder programs (ffmpeg, ffprobe, gst-launch-1.0) in a given folder or on PATH.</summary>
internal static class ToolLocator
{
    public static string Find(string name, string? directory, string? missing = null)
    {
        var folders = directory is not null
            ? [directory]
            : (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var folder in folders)
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        var where = directory is not null ? $"in '{directory}'" : "on PATH";
        throw new FrameSourceException(
            $"{name} was not found {where}; " + (missing ?? "network cameras (rtsp, http) are decoded by ffmpeg: install the 'ffmpeg' package (apt-get install ffmpeg)"));
    }
}
