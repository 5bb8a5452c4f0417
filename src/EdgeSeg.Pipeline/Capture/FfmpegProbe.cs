using System.Globalization;
using System.Text.Json;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>What a probe found out about a stream before it is decoded: the size every frame is pinned to.</summary>
internal sealed record StreamInfo(int Width, int Height, double? Fps, bool IsFinite, int MajorVersion, string? Codec = null);

/// <summary>
/// Asks ffprobe what a stream holds (first video stream's size, rate and codec, a duration, ffprobe's
/// version) and reads its JSON answer. Errors name the stream with its password hidden.
/// </summary>
internal static class FfmpegProbe
{
    /// <summary>How many of ffprobe's error lines a failure quotes.</summary>
    private const int QuotedLines = 8;

    /// <summary>Runs ffprobe for the first video stream's size and rate, the duration and ffprobe's version.</summary>
    public static StreamInfo Probe(SourceUri uri, string ffprobe, TimeSpan timeout)
    {
        // No socket timeout here: the right option's name depends on the version this very call reports,
        // so the process deadline bounds the probe instead. TCP for RTSP: UDP is lost through NAT and
        // firewalls, and loses packets (smeared frames) on busy links.
        string[] args =
        [
            "-v", "error", "-hide_banner",
            .. uri.Scheme is "rtsp" or "rtsps" ? ["-rtsp_transport", "tcp"] : Array.Empty<string>(),
            "-fpsprobesize", "0",
            "-show_program_version",
            "-select_streams", "v:0",
            "-show_entries", "stream=codec_name,width,height,avg_frame_rate,r_frame_rate:format=duration",
            "-of", "json",
            uri.Original,
        ];
        var run = ProbeProcess.Run(uri, ffprobe, args, timeout, line => FfmpegLog.Clean(uri, line));
        if (run.End == ProbeEnd.TimedOut)
        {
            throw new FrameSourceException($"{uri.Redacted}: no answer within {timeout.TotalSeconds:0.#} s (camera unreachable or not streaming)");
        }

        var said = string.Join(" | ", run.Errors.TakeLast(QuotedLines));
        if (run.ExitCode != 0)
        {
            throw new FrameSourceException($"{uri.Redacted}: cannot open the stream (ffprobe exit code {run.ExitCode}){(said.Length > 0 ? ": " + said : string.Empty)}");
        }

        return ParseProbe(uri, run.Output, said);
    }

    internal static StreamInfo ParseProbe(SourceUri uri, string json, string said)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var major = 0;
            if (root.TryGetProperty("program_version", out var version) && version.TryGetProperty("version", out var text))
            {
                major = ParseMajorVersion(text.GetString());
            }

            if (!root.TryGetProperty("streams", out var streams) || streams.GetArrayLength() == 0)
            {
                throw new FrameSourceException($"{uri.Redacted}: the stream has no video{(said.Length > 0 ? ": " + said : string.Empty)}");
            }

            var stream = streams[0];
            var width = stream.TryGetProperty("width", out var w) ? w.GetInt32() : 0;
            var height = stream.TryGetProperty("height", out var h) ? h.GetInt32() : 0;
            if (width <= 0 || height <= 0)
            {
                throw new FrameSourceException($"{uri.Redacted}: the video's frame size could not be determined{(said.Length > 0 ? ": " + said : string.Empty)}");
            }

            var fps = ParseRate(stream, "avg_frame_rate") ?? ParseRate(stream, "r_frame_rate");
            var finite = root.TryGetProperty("format", out var format)
                         && format.TryGetProperty("duration", out var duration)
                         && double.TryParse(duration.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                         && seconds > 0;
            var codec = stream.TryGetProperty("codec_name", out var c) ? c.GetString() : null;
            return new StreamInfo(width, height, fps, finite, major, codec);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new FrameSourceException($"{uri.Redacted}: ffprobe's answer could not be read: {e.Message}", e);
        }
    }

    /// <summary>"30/1" or "30000/1001" → frames per second; "0/0" and absurd rates → null.</summary>
    private static double? ParseRate(JsonElement stream, string name)
    {
        if (!stream.TryGetProperty(name, out var value) || value.GetString() is not { } text)
        {
            return null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0
            || !double.TryParse(text.AsSpan(0, slash), NumberStyles.Float, CultureInfo.InvariantCulture, out var num)
            || !double.TryParse(text.AsSpan(slash + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var den)
            || den <= 0)
        {
            return null;
        }

        var fps = num / den;
        return fps is > 0 and < 1000 ? fps : null;
    }

    /// <summary>"5.1.9-0+deb12u1", "n6.1", "4.4.2-0ubuntu0.22.04.1" → 5, 6, 4; git snapshots ("N-1234-g…") → 0 (newest).</summary>
    internal static int ParseMajorVersion(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            return 0;
        }

        var span = version.AsSpan().TrimStart('n');
        var digits = 0;
        while (digits < span.Length && char.IsAsciiDigit(span[digits]))
        {
            digits++;
        }

        return digits > 0 && int.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0;
    }
}

/// <summary>ffmpeg's log lines made fit for the service's log.</summary>
internal static class FfmpegLog
{
    /// <summary>
    /// An ffmpeg log line made fit for a log: the password scrubbed, and the "[tcp @ 0x55d0c3a1e2c0] "
    /// prefix (an internal pointer, no help to an operator) dropped.
    /// </summary>
    public static string Clean(SourceUri uri, string line)
    {
        var text = line.AsSpan().Trim();
        if (text.StartsWith("[") && text.IndexOf(" @ 0x", StringComparison.Ordinal) is > 0 and var at
            && text[at..].IndexOf("] ", StringComparison.Ordinal) is > 0 and var end)
        {
            text = text[(at + end + 2)..];
        }

        return uri.Scrub(text.ToString());
    }
}
