using System.Globalization;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>The command line of the ffmpeg child process that decodes a stream to raw BGR24 frames on its stdout.</summary>
internal static class FfmpegArguments
{
    /// <summary>The ffmpeg command line: demuxer options by protocol, latency flags by liveness, raw BGR out.</summary>
    public static List<string> Decoder(SourceUri uri, StreamInfo info, TimeSpan stallTimeout)
    {
        var args = new List<string> { "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error" };

        // ffmpeg's own socket timeout is a backstop at twice the stall timeout: the watchdog normally acts
        // first and says plainly what happened.
        AddSocketTimeout(args, uri, info.MajorVersion, stallTimeout * 2);

        // The probe already knows the frame rate; counting frames to estimate it again delays the first frame.
        args.AddRange(["-fpsprobesize", "0"]);
        if (info.IsFinite)
        {
            // A clip is played at its own rate, as a camera would deliver it, instead of as fast as it decodes.
            args.Add("-re");
        }
        else
        {
            // Live: no buffering of what arrives while the stream is analysed (old frames are latency), and
            // frames leave the decoder as soon as they are complete.
            args.AddRange(["-fflags", "nobuffer", "-flags", "low_delay"]);
        }

        args.AddRange(["-i", uri.Original]);
        args.AddRange(["-map", "0:v:0", "-an", "-sn", "-dn"]);

        // Size pinned to the probe's, so the byte count per frame never changes; passthrough so that
        // ffmpeg neither duplicates nor drops frames to fake a constant rate (-vsync is understood by
        // ffmpeg 4 to 7, -fps_mode only from 5.1).
        args.AddRange(["-s", string.Create(CultureInfo.InvariantCulture, $"{info.Width}x{info.Height}")]);
        args.AddRange(["-vsync", "passthrough", "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1"]);
        return args;
    }

    /// <summary>
    /// The socket timeout, in microseconds as ffmpeg wants. RTSP's option is <c>-timeout</c> since ffmpeg
    /// 5; in ffmpeg 4 (Ubuntu 20.04/22.04, JetPack) <c>-timeout</c> meant "listen for a connection" and the
    /// socket timeout was <c>-stimeout</c>. HTTP uses the generic <c>-rw_timeout</c>.
    /// </summary>
    private static void AddSocketTimeout(List<string> args, SourceUri uri, int ffmpegMajor, TimeSpan timeout)
    {
        var micros = ((long)timeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        if (uri.Scheme is "rtsp" or "rtsps")
        {
            args.AddRange(["-rtsp_transport", "tcp", ffmpegMajor is > 0 and < 5 ? "-stimeout" : "-timeout", micros]);
        }
        else
        {
            args.AddRange(["-rw_timeout", micros]);
        }
    }
}
