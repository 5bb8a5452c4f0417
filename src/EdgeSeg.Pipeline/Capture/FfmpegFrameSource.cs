using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>Timeouts and tool location for <see cref="FfmpegFrameSource"/>.</summary>
public sealed record FfmpegSourceOptions
{
    /// <summary>
    /// How long one <see cref="IFrameSource.Read"/> may wait for a complete frame (the first one
    /// included) before the stream counts as dead, ffmpeg is killed and the read throws.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long ffprobe may take to connect and describe the stream.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Folder holding <c>ffmpeg</c> and <c>ffprobe</c>; null searches <c>PATH</c>.</summary>
    public string? ToolDirectory { get; init; }
}

/// <summary>
/// Network cameras and streams (rtsp, rtsps, http, https) decoded by an <c>ffmpeg</c> child process that
/// writes raw BGR24 frames to a pipe, and GStreamer pipelines (gst://…, <see cref="OpenGStreamer"/>) read
/// the same way from <c>gst-launch-1.0</c>. The OpenCV build on NuGet has FFmpeg without network support, so
/// this is how such URIs are read on x86; it works wherever Debian's or Ubuntu's ffmpeg is installed.
/// </summary>
/// <remarks>
/// <para>Opening runs ffprobe once for the frame size and rate, then ffmpeg with that size pinned, so that
/// every frame is exactly width × height × 3 bytes even if the camera changes resolution mid-stream.
/// Frames are read from the pipe straight into the caller's buffer: nothing is allocated per frame.</para>
/// <para>A stream is <em>finite</em> when the probe reports a duration (an HTTP-served clip): it is played
/// at its own rate (<c>-re</c>, like a camera) and its end makes <see cref="Read"/> return false. Any
/// other stream is <em>live</em>: a camera never ends, so ffmpeg exiting for whatever reason (ffmpeg even
/// exits 0 when a camera drops the connection) throws <see cref="FrameSourceException"/> and the
/// capture worker reconnects.</para>
/// <para>Passwords in the URI never reach <see cref="Description"/>, exception messages or logs: ffmpeg's
/// error lines are scrubbed with <see cref="SourceUri.Scrub"/>. They are on ffmpeg's command line, which
/// the systemd unit hides from other users with <c>ProtectProc=invisible</c>.</para>
/// </remarks>
public sealed class FfmpegFrameSource : IFrameSource
{
    /// <summary>Schemes read through ffmpeg.</summary>
    public static IReadOnlyList<string> Schemes { get; } = ["rtsp", "rtsps", "http", "https"];

    private const int StderrLines = 8;
    private const int StderrLineLength = 300;

    private readonly SourceUri _uri;
    private readonly string _tool;
    private readonly Process _process;
    private readonly Stream _frames;
    private readonly int _frameBytes;
    private readonly TimeSpan _stallTimeout;
    private readonly Timer _watchdog;
    private readonly Lock _gate = new();
    private readonly string[] _stderr = new string[StderrLines];
    private int _stderrNext;
    private long _readStarted;
    private volatile bool _stalled;
    private bool _disposed;
    private bool _processReleased;
    private bool _ended;
    private string? _failure;
    private long _sequence;

    private FfmpegFrameSource(SourceUri uri, StreamInfo info, string ffmpeg, FfmpegSourceOptions options)
        : this(uri, info, ffmpeg, "ffmpeg", DecoderArguments(uri, info, options.StallTimeout), options)
    {
    }

    /// <summary>A decoder child process (<paramref name="tool"/>, named in messages) that writes raw BGR24 frames of <paramref name="info"/>'s size to stdout.</summary>
    private FfmpegFrameSource(SourceUri uri, StreamInfo info, string executable, string tool, IReadOnlyList<string> arguments, FfmpegSourceOptions options)
    {
        _uri = uri;
        _tool = tool;
        Description = uri.Redacted;
        Width = info.Width;
        Height = info.Height;
        NominalFps = info.Fps;
        IsLive = !info.IsFinite;
        Codec = info.Codec;
        ToolVersion = info.MajorVersion;
        _frameBytes = checked(info.Width * info.Height * 3);
        _stallTimeout = options.StallTimeout;

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.ErrorDataReceived += OnStderr;
        try
        {
            _process.Start();
        }
        catch (Win32Exception e)
        {
            _process.Dispose();
            throw new FrameSourceException($"{Description}: {tool} could not be started: {e.Message}", e);
        }

        // stderr is drained on the thread pool: ffmpeg blocks once a pipe fills, and a thread per camera
        // just for error lines would be waste.
        _process.BeginErrorReadLine();
        _frames = _process.StandardOutput.BaseStream;

        // One timer per source checks whether a read has been waiting too long; per-frame timer resets would
        // cost more than a check a few times a second.
        var period = TimeSpan.FromTicks(Math.Clamp(options.StallTimeout.Ticks / 5, TimeSpan.TicksPerMillisecond * 50, TimeSpan.TicksPerSecond));
        _watchdog = new Timer(CheckStall, null, period, period);
    }

    /// <summary>The URI with its password hidden.</summary>
    public string Description { get; }

    /// <summary>The frame rate the stream announces, from the probe.</summary>
    public double? NominalFps { get; }

    /// <summary>Frame width in pixels, fixed for the life of the source.</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels, fixed for the life of the source.</summary>
    public int Height { get; }

    /// <summary>True for cameras and other streams without a duration; false for a served clip.</summary>
    public bool IsLive { get; }

    /// <summary>The stream's codec as ffprobe names it (h264, hevc, mjpeg, …), when it said.</summary>
    public string? Codec { get; }

    /// <summary>The decoder process: "ffmpeg" or "gst-launch-1.0".</summary>
    public string Tool => _tool;

    /// <summary>ffprobe's major version.</summary>
    public int ToolVersion { get; }

    /// <summary>Probes <paramref name="uri"/> and starts decoding it; throws <see cref="FrameSourceException"/> when it cannot.</summary>
    public static FfmpegFrameSource Open(SourceUri uri, FfmpegSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new FfmpegSourceOptions();
        if (Check(uri) is { } problem)
        {
            throw new FrameSourceException(problem);
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.StallTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ProbeTimeout, TimeSpan.Zero, nameof(options));
        var ffprobe = FindTool("ffprobe", options.ToolDirectory);
        var ffmpeg = FindTool("ffmpeg", options.ToolDirectory);
        // A live camera that comes back after an outage is the camera it was: reopening it with the size
        // and rate its last probe found saves a second RTSP session and its wait for a keyframe (about a
        // second of every reconnect, measured against a restarting RTSP server). The size stays pinned, so
        // a camera that did change resolution is scaled to the old one rather than misread.
        if (!Known.TryGetValue(uri.Original, out var info))
        {
            info = Probe(uri, ffprobe, options.ProbeTimeout);
            if (!info.IsFinite)
            {
                Known[uri.Original] = info;
            }
        }

        return new FfmpegFrameSource(uri, info, ffmpeg, options);
    }

    /// <summary>Returns null when <paramref name="uri"/> is a usable network address, else what is wrong (no I/O).</summary>
    public static string? Check(SourceUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!Schemes.Contains(uri.Scheme))
        {
            return $"'{uri.Redacted}': ffmpeg reads {string.Join(", ", Schemes)}, not '{uri.Scheme}'";
        }

        var at = uri.Authority.LastIndexOf('@');
        var hostPort = uri.Authority[(at + 1)..];
        string host;
        string? port = null;
        if (hostPort.StartsWith('['))
        {
            // IPv6 literal: [fe80::1]:554
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return $"'{uri.Redacted}': unterminated IPv6 address";
            }

            host = hostPort[1..close];
            var tail = hostPort[(close + 1)..];
            if (tail.Length > 0)
            {
                if (tail[0] != ':')
                {
                    return $"'{uri.Redacted}': unexpected '{tail}' after the IPv6 address";
                }

                port = tail[1..];
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort[..colon];
            port = colon < 0 ? null : hostPort[(colon + 1)..];
        }

        if (host.Length == 0)
        {
            return $"'{uri.Redacted}' names no host: expected {uri.Scheme}://[user:password@]host[:port]/path";
        }

        if (port is not null
            && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535))
        {
            return $"'{uri.Redacted}': port '{port}' is not a number from 1 to 65535";
        }

        if (uri.Original.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return $"'{uri.Redacted}' contains spaces or control characters; percent-encode them (%20)";
        }

        return Uri.CheckHostName(host) == UriHostNameType.Unknown
            ? $"'{uri.Redacted}': '{host}' is not a valid host name or address"
            : null;
    }

    /// <summary>
    /// Reads the next frame into <paramref name="target"/>. Returns false only at the end of a finite
    /// stream; throws <see cref="FrameSourceException"/> when the stream stalls, ends while live, or fails.
    /// </summary>
    public bool Read(VideoFrame target)
    {
        ArgumentNullException.ThrowIfNull(target);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw new FrameSourceException(_failure);
        }

        if (_ended)
        {
            return false;
        }

        target.EnsureSize(Width, Height);
        int read;
        Volatile.Write(ref _readStarted, Stopwatch.GetTimestamp());
        try
        {
            read = _frames.ReadAtLeast(target.Buffer.AsSpan(0, _frameBytes), _frameBytes, throwOnEndOfStream: false);
        }
        catch (IOException e)
        {
            read = -1;
            _failure = $"{Description}: reading {_tool}'s output failed: {e.Message}";
        }
        finally
        {
            Volatile.Write(ref _readStarted, 0);
        }

        if (read == _frameBytes)
        {
            target.Sequence = _sequence++;
            return true;
        }

        return Finish(read);
    }

    /// <summary>Kills ffmpeg (if still running) and waits briefly for it, so no process outlives the source.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _watchdog.Dispose();
        Kill();

        // A killed process goes within milliseconds; the runtime reaps it (no zombie) even if this wait
        // were to give up first.
        _process.WaitForExit(TimeSpan.FromSeconds(2));
        lock (_gate)
        {
            _processReleased = true;
            _process.Dispose();
        }
    }

    /// <summary>The end of ffmpeg's output: a finite stream's normal end, or a failure to report.</summary>
    private bool Finish(int read)
    {
        // Output has ended, so ffmpeg has exited or is about to; its exit code and last lines tell why.
        if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(2));
        }
        else
        {
            // The overload without a timeout also waits for the last stderr lines to be delivered.
            _process.WaitForExit();
        }

        int? exitCode = _process.HasExited ? _process.ExitCode : null;
        if (_failure is null && !_stalled && read == 0 && exitCode == 0 && !IsLive)
        {
            _ended = true;
            return false;
        }

        var reason = _failure
            ?? (_stalled
                ? $"{Description}: no frame for {_stallTimeout.TotalSeconds:0.#} s; {_tool} was stopped"
                : IsLive
                    ? $"{Description}: the stream ended ({_tool} exit code {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}{(read > 0 ? ", in the middle of a frame" : string.Empty)}); a live camera is expected to run forever"
                    : $"{Description}: {_tool} stopped {(read > 0 ? "in the middle of a frame" : "before the end")} (exit code {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"})");
        var tail = StderrTail();
        _failure = tail.Length > 0 ? $"{reason}; {_tool} said: {tail}" : reason;
        throw new FrameSourceException(_failure);
    }

    private void CheckStall(object? state)
    {
        var started = Volatile.Read(ref _readStarted);
        if (started != 0 && !_stalled && Stopwatch.GetElapsedTime(started) > _stallTimeout)
        {
            // Killing ffmpeg closes the pipe, which ends the blocked read; Finish then reports the stall.
            _stalled = true;
            Kill();
        }
    }

    private void Kill()
    {
        lock (_gate)
        {
            if (_processReleased)
            {
                return;
            }

            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
            {
                // Already gone, or never started: either way there is nothing left to stop.
            }
        }
    }

    private void OnStderr(object sender, DataReceivedEventArgs e)
    {
        if (string.IsNullOrWhiteSpace(e.Data))
        {
            return;
        }

        // Scrubbed on arrival, so the ring never holds a secret.
        var line = CleanLine(_uri, e.Data);
        if (line.Length > StderrLineLength)
        {
            line = string.Concat(line.AsSpan(0, StderrLineLength), "…");
        }

        lock (_stderr)
        {
            _stderr[_stderrNext % StderrLines] = line;
            _stderrNext++;
        }
    }

    /// <summary>
    /// An ffmpeg log line made fit for a log: the password scrubbed, and the "[tcp @ 0x55d0c3a1e2c0] "
    /// prefix (an internal pointer, no help to an operator) dropped.
    /// </summary>
    private static string CleanLine(SourceUri uri, string line)
    {
        var text = line.AsSpan().Trim();
        if (text.StartsWith("[") && text.IndexOf(" @ 0x", StringComparison.Ordinal) is > 0 and var at
            && text[at..].IndexOf("] ", StringComparison.Ordinal) is > 0 and var end)
        {
            text = text[(at + end + 2)..];
        }

        return uri.Scrub(text.ToString());
    }

    private string StderrTail()
    {
        lock (_stderr)
        {
            var count = Math.Min(_stderrNext, StderrLines);
            var lines = new string[count];
            for (var i = 0; i < count; i++)
            {
                lines[i] = _stderr[(_stderrNext - count + i) % StderrLines];
            }

            return string.Join(" | ", lines);
        }
    }

    /// <summary>The ffmpeg command line: demuxer options by protocol, latency flags by liveness, raw BGR out.</summary>
    private static List<string> DecoderArguments(SourceUri uri, StreamInfo info, TimeSpan stallTimeout)
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

    /// <summary>Runs ffprobe for the first video stream's size and rate, the duration and ffprobe's version.</summary>
    private static StreamInfo Probe(SourceUri uri, string ffprobe, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(ffprobe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // No socket timeout here: the right option's name depends on the version this very call reports,
        // so the process deadline below bounds the probe instead. TCP for RTSP: UDP is lost through NAT and
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
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        var stdout = new StringBuilder();
        var stderr = new List<string>();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            lock (stdout)
            {
                stdout.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                lock (stderr)
                {
                    stderr.Add(CleanLine(uri, e.Data));
                }
            }
        };

        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new FrameSourceException($"{uri.Redacted}: ffprobe could not be started: {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It finished just now.
            }

            process.WaitForExit(TimeSpan.FromSeconds(2));
            throw new FrameSourceException($"{uri.Redacted}: no answer within {timeout.TotalSeconds:0.#} s (camera unreachable or not streaming)");
        }

        process.WaitForExit();
        string said;
        lock (stderr)
        {
            said = string.Join(" | ", stderr.TakeLast(StderrLines));
        }

        if (process.ExitCode != 0)
        {
            throw new FrameSourceException($"{uri.Redacted}: cannot open the stream (ffprobe exit code {process.ExitCode}){(said.Length > 0 ? ": " + said : string.Empty)}");
        }

        string json;
        lock (stdout)
        {
            json = stdout.ToString();
        }

        return ParseProbe(uri, json, said);
    }

    private static StreamInfo ParseProbe(SourceUri uri, string json, string said)
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

    private static string FindTool(string name, string? directory, string? missing = null)
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

    /// <summary>URI scheme of GStreamer pipelines: <c>gst://</c> followed by a gst-launch-1.0 pipeline description.</summary>
    public const string GStreamerScheme = "gst";

    /// <summary>
    /// Opens a GStreamer pipeline (<c>gst://videotestsrc is-live=true ! video/x-raw,width=640,height=480</c>;
    /// on a Jetson <c>gst://nvarguscamerasrc ! video/x-raw(memory:NVMM),width=1920,height=1080 ! nvvidconv</c>)
    /// through a <c>gst-launch-1.0</c> child process. The pipeline is run once with <c>-v</c> until it
    /// negotiates, for the frame size and rate; then for good, with <c>videoconvert ! videoscale</c> to BGR
    /// at that size pinned and <c>fdsink</c> to the pipe, exactly as ffmpeg's output is read.
    /// </summary>
    public static FfmpegFrameSource OpenGStreamer(SourceUri uri, FfmpegSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new FfmpegSourceOptions();
        var pipeline = GStreamerPipeline(uri.Original, out var problem) ?? throw new FrameSourceException(problem!);
        var launch = FindTool("gst-launch-1.0", options.ToolDirectory, "GStreamer pipelines need it: install 'gstreamer1.0-tools' (apt-get install gstreamer1.0-tools; on Jetson it comes with JetPack)");
        if (!Known.TryGetValue(uri.Original, out var info))
        {
            info = ProbeGStreamer(uri, launch, pipeline, options.ProbeTimeout);
            Known[uri.Original] = info;
        }

        var caps = string.Create(CultureInfo.InvariantCulture, $"video/x-raw,format=BGR,width={info.Width},height={info.Height}");
        string[] arguments = ["-q", .. SplitPipeline(pipeline), "!", "videoconvert", "!", "videoscale", "!", caps, "!", "fdsink", "fd=1", "sync=false"];
        return new FfmpegFrameSource(uri, info, launch, "gst-launch-1.0", arguments, options);
    }

    /// <summary>The pipeline of a gst:// source, or null with <paramref name="problem"/> saying what is wrong (no I/O).</summary>
    public static string? GStreamerPipeline(string source, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(source);
        var prefix = GStreamerScheme + "://";
        var pipeline = source.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? source[prefix.Length..].Trim() : null;
        problem = pipeline switch
        {
            null => $"'{source}' is not a GStreamer pipeline (expected gst://element ! element …)",
            "" => "gst:// names no pipeline: expected e.g. gst://videotestsrc is-live=true ! video/x-raw,width=640,height=480",
            _ when SplitPipeline(pipeline).Any(t => t is "fdsink" or "appsink" or "filesink" or "autovideosink")
                => "give the pipeline without a sink: EdgeSeg adds its own (videoconvert ! videoscale ! fdsink)",
            _ when pipeline.TrimEnd().EndsWith('!') => "the pipeline ends with '!': give its last element",
            _ => null,
        };
        return problem is null ? pipeline : null;
    }

    /// <summary>gst-launch-1.0 takes its pipeline as separate arguments, split at spaces outside quotes.</summary>
    private static List<string> SplitPipeline(string pipeline)
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
    private static StreamInfo ProbeGStreamer(SourceUri uri, string launch, string pipeline, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(launch) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-v", .. SplitPipeline(pipeline), "!", "videoconvert", "!", "capsfilter", "name=edgeseg_probe", "caps=video/x-raw,format=BGR", "!", "fakesink"])
        {
            start.ArgumentList.Add(a);
        }

        using var process = new Process { StartInfo = start };
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var said = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.Contains("edgeseg_probe.GstPad:src: caps = video/x-raw", StringComparison.Ordinal))
            {
                found.TrySetResult(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                lock (said)
                {
                    said.Add(uri.Scrub(e.Data.Trim()));
                }
            }
        };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new FrameSourceException($"{uri.Redacted}: gst-launch-1.0 could not be started: {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = Task.WhenAny(found.Task, exited, Task.Delay(timeout)).GetAwaiter().GetResult();
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.WaitForExit(TimeSpan.FromSeconds(2));
        string Said()
        {
            lock (said)
            {
                var errors = said.Where(l => l.StartsWith("ERROR", StringComparison.Ordinal) || l.StartsWith("WARNING", StringComparison.Ordinal)).ToList();
                return string.Join(" ", (errors.Count > 0 ? errors : said).TakeLast(3));
            }
        }

        if (first != found.Task)
        {
            throw new FrameSourceException(first == exited
                ? $"{uri.Redacted}: the pipeline stopped before delivering a frame (gst-launch-1.0 exit code {process.ExitCode}){(Said() is { Length: > 0 } s ? ": " + s : string.Empty)}"
                : $"{uri.Redacted}: the pipeline negotiated no video within {timeout.TotalSeconds:0.#} s{(Said() is { Length: > 0 } t ? ": " + t : string.Empty)}");
        }

        var caps = found.Task.Result;
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

    /// <summary>The last probe of each live stream opened in this process (keyed by the URI, never logged).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, StreamInfo> Known = new(StringComparer.Ordinal);

    private sealed record StreamInfo(int Width, int Height, double? Fps, bool IsFinite, int MajorVersion, string? Codec = null);
}
