using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// Chooses a frame source by URI scheme. <see cref="Validate"/> checks a source without opening it, so
/// that configuration errors are found at start, before any camera is touched.
/// </summary>
public static class FrameSourceFactory
{
    /// <summary>Schemes this build understands.</summary>
    public static IReadOnlyList<string> Schemes { get; } = ["file", "v4l2", "synthetic", .. FfmpegFrameSource.Schemes, FfmpegFrameSource.GStreamerScheme];

    /// <summary>Returns null when <paramref name="source"/> is well formed, else what is wrong with it.</summary>
    public static string? Validate(string? source, string? baseDirectory = null)
    {
        if (source is not null && source.StartsWith(FfmpegFrameSource.GStreamerScheme + "://", StringComparison.OrdinalIgnoreCase))
        {
            // A pipeline description is not a URI (spaces, '!', caps with '/'): it is checked on its own.
            GStreamerLaunch.Pipeline(source, out var problem);
            return problem;
        }

        try
        {
            var uri = SourceUri.Parse(source ?? string.Empty);
            switch (uri.Scheme)
            {
                case "file":
                    uri.RejectUnknownKeys("loop");
                    uri.GetBool("loop", false);
                    if (uri.Path.Length == 0 && uri.Authority.Length == 0)
                    {
                        return $"'{uri.Redacted}' names no file";
                    }

                    var path = ResolveFilePath(uri, baseDirectory);
                    return File.Exists(path) ? null : $"video file '{path}' does not exist";
                case "v4l2":
                    uri.RejectUnknownKeys("width", "height", "fps");
                    uri.GetPositiveInt("width", 0);
                    uri.GetPositiveInt("height", 0);
                    uri.GetPositiveInt("fps", 0);
                    return uri.Path.StartsWith("/dev/", StringComparison.Ordinal)
                        ? null
                        : $"'{uri.Redacted}': expected a device path such as v4l2:///dev/video0";
                case "synthetic":
                    SyntheticFrameSource.Open(new Uri(uri.Original)).Dispose();
                    return null;
                case "rtsp" or "rtsps" or "http" or "https":
                    // The query belongs to the camera (channel=1&subtype=0 …) and is passed on untouched.
                    return FfmpegFrameSource.Check(uri);
                default:
                    return $"unsupported scheme '{uri.Scheme}' (supported: {string.Join(", ", Schemes)})";
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or UriFormatException)
        {
            return e.Message;
        }
    }

    /// <summary>Opens <paramref name="source"/>; throws <see cref="FrameSourceException"/> when it cannot.</summary>
    public static IFrameSource Open(string source, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.StartsWith(FfmpegFrameSource.GStreamerScheme + "://", StringComparison.OrdinalIgnoreCase))
        {
            return FfmpegFrameSource.OpenGStreamer(SourceUri.Parse(source));
        }

        SourceUri uri;
        try
        {
            uri = SourceUri.Parse(source);
        }
        catch (FormatException e)
        {
            throw new FrameSourceException(e.Message, e);
        }

        try
        {
            return uri.Scheme switch
            {
                "file" => OpenCvFrameSource.OpenFile(ResolveFilePath(uri, baseDirectory), uri.GetBool("loop", false)),
                "v4l2" => OpenCvFrameSource.OpenDevice(
                    uri.Path, uri.GetPositiveInt("width", 0), uri.GetPositiveInt("height", 0), uri.GetPositiveInt("fps", 0)),
                "synthetic" => SyntheticFrameSource.Open(new Uri(uri.Original)),
                "rtsp" or "rtsps" or "http" or "https" => FfmpegFrameSource.Open(uri),
                _ => throw new FrameSourceException(
                    $"unsupported scheme '{uri.Scheme}' in '{uri.Redacted}' (supported: {string.Join(", ", Schemes)})"),
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or UriFormatException)
        {
            throw new FrameSourceException($"'{uri.Redacted}': {e.Message}", e);
        }
    }

    /// <summary>
    /// file:///abs/path is absolute; file://relative/path (the authority read as the first folder) is
    /// taken relative to <paramref name="baseDirectory"/> or the working directory.
    /// </summary>
    private static string ResolveFilePath(SourceUri uri, string? baseDirectory)
    {
        var path = uri.Authority.Length == 0 ? uri.Path : uri.Authority + uri.Path;
        return Path.IsPathRooted(path) ? path : Path.GetFullPath(path, baseDirectory ?? Directory.GetCurrentDirectory());
    }
}
