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
        : this(uri, info, ffmpeg, "ffmpeg", FfmpegArguments.Decoder(uri, info, options.StallTimeout), options)
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
        var ffprobe = ToolLocator.Find("ffprobe", options.ToolDirectory);
        var ffmpeg = ToolLocator.Find("ffmpeg", options.ToolDirectory);
        // A live camera that comes back after an outage is the camera it was: reopening it with the size
        // and rate its last probe found saves a second RTSP session and its wait for a keyframe (about a
        // second of every reconnect, measured against a restarting RTSP server). The size stays pinned, so
        // a camera that did change resolution is scaled to the old one rather than misread.
        if (!Known.TryGetValue(uri.Original, out var info))
        {
            info = FfmpegProbe.Probe(uri, ffprobe, options.ProbeTimeout);
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
        var line = FfmpegLog.Clean(_uri, e.Data);
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
        var pipeline = GStreamerLaunch.Pipeline(uri.Original, out var problem) ?? throw new FrameSourceException(problem!);
        var launch = ToolLocator.Find("gst-launch-1.0", options.ToolDirectory, "GStreamer pipelines need it: install 'gstreamer1.0-tools' (apt-get install gstreamer1.0-tools; on Jetson it comes with JetPack)");
        if (!Known.TryGetValue(uri.Original, out var info))
        {
            info = GStreamerLaunch.Probe(uri, launch, pipeline, options.ProbeTimeout);
            Known[uri.Original] = info;
        }

        var caps = string.Create(CultureInfo.InvariantCulture, $"video/x-raw,format=BGR,width={info.Width},height={info.Height}");
        string[] arguments = ["-q", .. GStreamerLaunch.Split(pipeline), "!", "videoconvert", "!", "videoscale", "!", caps, "!", "fdsink", "fd=1", "sync=false"];
        return new FfmpegFrameSource(uri, info, launch, "gst-launch-1.0", arguments, options);
    }

    /// <summary>The last probe of each live stream opened in this process (keyed by the URI, never logged).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, StreamInfo> Known = new(StringComparer.Ordinal);
}
