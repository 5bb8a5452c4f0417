using System.Globalization;
using System.Text;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// GStreamer pipelines (gst://…) for a gst-launch-1.0 child process: the pipeline checked and split into
/// arguments, and probed once with <c>-v</c> for the size and rate its BGR end negotiates.
/// </summary>
internal static class GStreamerLaunch
{
    /// <summary>The pipeline of a gst:// source, or null with <paramref name="problem"/> saying what is wrong (no I/O).</summary>
    public static string? Pipeline(string source, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(source);
        var prefix = FfmpegFrameSource.GStreamerScheme + "://";
        var pipeline = source.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? source[prefix.Length..].Trim() : null;
        problem = pipeline switch
        {
            null => $"'{source}' is not a GStreamer pipeline (expected gst://element ! element …)",
            "" => "gst:// names no pipeline: expected e.g. gst://videotestsrc is-live=true ! video/x-raw,width=640,height=480",
            _ when Split(pipeline).Any(t => t is "fdsink" or "appsink" or "filesink" or "autovideosink")
                => "give the pipeline without a sink: EdgeSeg adds its own (videoconvert ! videoscale ! fdsink)",
            _ when pipeline.TrimEnd().EndsWith('!') => "the pipeline ends with '!': give its last element",
            _ => null,
        };
        return problem is null ? pipeline : null;
    }

    /// <summary>gst-launch-1.0 takes its pipeline as separate arguments, split at spaces outside quotes.</summary>
    public static List<string> Split(string pipeline)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var quote = '\0';
        foreach (var c in pipeline)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    parts.Add(current.ToString());
                    current.Clear();
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            parts.Add(current.ToString());
        }

        return parts;
    }

    /// <summary>Runs the pipeline with -v into a fakesink until the caps of its BGR end are negotiated, then stops it.</summary>
    public static StreamInfo Probe(SourceUri uri, string launch, string pipeline, TimeSpan timeout)
    {
        string[] args = ["-v", .. Split(pipeline), "!", "videoconvert", "!", "capsfilter", "name=edgeseg_probe", "caps=video/x-raw,format=BGR", "!", "fakesink"];
        var run = ProbeProcess.Run(
            uri, launch, args, timeout, line => uri.Scrub(line.Trim()),
            stopAt: line => line.Contains("edgeseg_probe.GstPad:src: caps = video/x-raw", StringComparison.Ordinal));
        if (run.MatchedLine is not { } caps)
        {
            var errors = run.Errors.Where(l => l.StartsWith("ERROR", StringComparison.Ordinal) || l.StartsWith("WARNING", StringComparison.Ordinal)).ToList();
            var said = string.Join(" ", (errors.Count > 0 ? errors : run.Errors).TakeLast(3));
            var suffix = said.Length > 0 ? ": " + said : string.Empty;
            throw new FrameSourceException(run.End == ProbeEnd.Exited
                ? $"{uri.Redacted}: the pipeline stopped before delivering a frame (gst-launch-1.0 exit code {run.ExitCode}){suffix}"
                : $"{uri.Redacted}: the pipeline negotiated no video within {timeout.TotalSeconds:0.#} s{suffix}");
        }

        var width = System.Text.RegularExpressions.Regex.Match(caps, @"width=\(int\)(\d+)");
        var height = System.Text.RegularExpressions.Regex.Match(caps, @"height=\(int\)(\d+)");
        var rate = System.Text.RegularExpressions.Regex.Match(caps, @"framerate=\(fraction\)(\d+)/(\d+)");
        if (!width.Success || !height.Success)
        {
            throw new FrameSourceException($"{uri.Redacted}: the pipeline's caps name no frame size: {caps}");
        }

        double? fps = rate.Success && int.Parse(rate.Groups[2].Value, CultureInfo.InvariantCulture) > 0
            ? double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture) / int.Parse(rate.Groups[2].Value, CultureInfo.InvariantCulture)
            : null;
        return new StreamInfo(
            int.Parse(width.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(height.Groups[1].Value, CultureInfo.InvariantCulture),
            fps is > 0 ? fps : null, IsFinite: false, MajorVersion: 1, Codec: "raw (GStreamer)");
    }
}
