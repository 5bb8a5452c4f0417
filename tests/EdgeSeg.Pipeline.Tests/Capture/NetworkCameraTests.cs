using System.Diagnostics;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Processing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeSeg.Pipeline.Tests.Capture;

/// <summary>
/// Network cameras read through ffmpeg, against real servers on loopback ports: GStreamer's RTSP server
/// and Python's http.server. Timeouts are generous (two busy cores); waits poll a condition, never sleep
/// a fixed time.
/// </summary>
[Collection(FfmpegProcesses.Name)]
public sealed class NetworkCameraTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Frames_are_read_from_an_RTSP_camera_without_allocating_and_ffmpeg_goes_with_the_source()
    {
        Requires.Ffmpeg();
        using var server = await StreamServer.StartRtspAsync();
        var frame = new VideoFrame();
        byte[] first;
        using (var source = FrameSourceFactory.Open($"rtsp://127.0.0.1:{server.Port}/test"))
        {
            var ffmpeg = Assert.IsType<FfmpegFrameSource>(source);
            Assert.True(ffmpeg.IsLive);
            Assert.Equal("h264", ffmpeg.Codec);
            Assert.Equal(15, source.NominalFps!.Value, 1);
            Assert.Single(ChildProcesses.Named("ffmpeg"));

            Assert.True(source.Read(frame));
            Assert.Equal((320, 240), (frame.Width, frame.Height));
            first = frame.Pixels.ToArray();

            // Warm: the buffer has its size, so further reads must not allocate. The bound is less than the
            // smallest object (24 bytes) per frame: the runtime's own housekeeping (tiered JIT) may allocate a
            // few bytes once, a per-frame allocation could not hide under it.
            Assert.True(source.Read(frame));
            var sequences = new long[20];
            var reads = 0;
            var before = GC.GetAllocatedBytesForCurrentThread();
            while (reads < sequences.Length && source.Read(frame))
            {
                sequences[reads++] = frame.Sequence;
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(sequences.Length, reads);
            Assert.Equal(Enumerable.Range(2, sequences.Length).Select(i => (long)i), sequences);
            Assert.True(allocated < 24 * sequences.Length, $"{reads} warm reads allocated {allocated} bytes");
        }

        // The test pattern's ball moves and its background is coloured: real decoded video, not zeros.
        Assert.False(first.AsSpan().SequenceEqual(frame.Pixels), "the picture did not change over 22 frames");
        Assert.Contains(first, b => b > 100);

        // Dispose killed and reaped ffmpeg: no child process (not even a zombie) is left.
        Assert.Empty(ChildProcesses.Named("ffmpeg"));
    }

    [SkippableFact]
    public async Task An_HTTP_served_clip_is_read_to_its_end_and_then_reports_the_end()
    {
        Requires.Ffmpeg();
        var dir = TestFiles.NewTempDirectory();
        FrameSourceTests.WriteVideo(dir, 10);
        using var server = await StreamServer.StartHttpAsync(dir);
        using var source = FrameSourceFactory.Open($"http://127.0.0.1:{server.Port}/clip.avi");
        Assert.False(Assert.IsType<FfmpegFrameSource>(source).IsLive);
        Assert.Equal(10, source.NominalFps!.Value, 1);

        var frame = new VideoFrame();
        var levels = new List<int>();
        while (source.Read(frame))
        {
            Assert.Equal((160, 96), (frame.Width, frame.Height));
            levels.Add(frame.Pixels[0]);
        }

        // Every frame, in order (frame i is grey level 20·i, within MJPEG's error), then a lasting end.
        Assert.Equal(10, levels.Count);
        for (var i = 0; i < levels.Count; i++)
        {
            Assert.InRange(levels[i], (20 * i) - 4, (20 * i) + 4);
        }

        Assert.False(source.Read(frame));
    }

    [SkippableFact]
    public async Task A_missing_HTTP_resource_fails_to_open_with_the_servers_answer()
    {
        Requires.Ffmpeg();
        using var server = await StreamServer.StartHttpAsync(TestFiles.NewTempDirectory());
        var e = Assert.Throws<FrameSourceException>(() => FrameSourceFactory.Open($"http://127.0.0.1:{server.Port}/nothing.avi"));
        Assert.Contains("404", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_camera_that_goes_away_mid_stream_fails_the_read_promptly()
    {
        Requires.Ffmpeg();
        var server = await StreamServer.StartRtspAsync();
        var options = new FfmpegSourceOptions { StallTimeout = TimeSpan.FromSeconds(4) };
        using var source = FfmpegFrameSource.Open(SourceUri.Parse($"rtsp://127.0.0.1:{server.Port}/test"), options);
        var frame = new VideoFrame();
        Assert.True(source.Read(frame));

        server.Dispose();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<FrameSourceException>(() => ReadUntilFailure(source, frame));

        // A dropped connection is noticed at once (ffmpeg sees the socket close), well before the stall timeout.
        Assert.True(clock.Elapsed < options.StallTimeout + TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Contains("127.0.0.1", e.Message, StringComparison.Ordinal);

        // The failure sticks: the source does not pretend to recover on its own.
        Assert.Throws<FrameSourceException>(() => source.Read(frame));
    }

    [SkippableFact]
    public async Task A_camera_that_hangs_fails_the_read_after_the_stall_timeout()
    {
        Requires.Ffmpeg();
        using var server = await StreamServer.StartRtspAsync();
        var options = new FfmpegSourceOptions { StallTimeout = TimeSpan.FromSeconds(2) };
        using var source = FfmpegFrameSource.Open(SourceUri.Parse($"rtsp://127.0.0.1:{server.Port}/test"), options);
        var frame = new VideoFrame();
        Assert.True(source.Read(frame));

        // The TCP connection stays open but nothing more arrives: only the watchdog can end the read.
        server.Freeze();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<FrameSourceException>(() => ReadUntilFailure(source, frame));
        Assert.InRange(clock.Elapsed, options.StallTimeout, options.StallTimeout + TimeSpan.FromSeconds(8));
        Assert.Contains("no frame for 2 s", e.Message, StringComparison.Ordinal);
        Assert.True(ChildProcesses.WaitUntilNone("ffmpeg", TimeSpan.FromSeconds(5)), "the stalled ffmpeg was not stopped");
    }

    [SkippableFact]
    public async Task A_capture_worker_streams_again_after_the_camera_restarts()
    {
        Requires.Ffmpeg();
        var port = StreamServer.FreePort();
        var uri = $"rtsp://127.0.0.1:{port}/test";
        using var signal = new FrameSignal();
        var slot = new FrameSlot(signal);
        using var worker = new CaptureWorker("north", () => FrameSourceFactory.Open(uri), slot, maxFps: null, NullLogger.Instance);

        var server = await StreamServer.StartRtspAsync(port);
        try
        {
            worker.Start();
            Assert.True(WaitFor(() => worker.Captured >= 5), $"no frames before the restart ({worker.LastError})");

            server.Dispose();
            Assert.True(WaitFor(() => worker.Reconnects >= 1), "the worker did not notice the camera going away");
            var before = worker.Captured;

            server = await StreamServer.StartRtspAsync(port);
            Assert.True(WaitFor(() => worker.Captured >= before + 5), $"no frames after the restart ({worker.LastError})");
            Assert.Equal(CaptureState.Streaming, worker.State);
            Assert.True(worker.Reconnects >= 1);
            Assert.NotNull(worker.LastError);
        }
        finally
        {
            worker.Stop(TimeSpan.FromSeconds(15));
            server.Dispose();
        }

        Assert.True(ChildProcesses.WaitUntilNone("ffmpeg", TimeSpan.FromSeconds(5)), "an ffmpeg outlived the worker");
    }

    [SkippableFact]
    public async Task Credentials_never_appear_in_descriptions_or_error_messages()
    {
        Requires.Ffmpeg();
        const string password = "Open-Sesame-42";
        const string wrong = "Wrong-Guess-17";
        using var server = await StreamServer.StartRtspAsync(user: "admin", password: password);

        // The right password reaches the camera (frames flow) but not the description.
        using (var source = FrameSourceFactory.Open($"rtsp://admin:{password}@127.0.0.1:{server.Port}/test"))
        {
            Assert.Equal($"rtsp://admin:***@127.0.0.1:{server.Port}/test", source.Description);
            Assert.True(source.Read(new VideoFrame()));
        }

        // A wrong one is refused; ffmpeg prints the URI with it, which must come out scrubbed.
        var refused = Assert.Throws<FrameSourceException>(
            () => FrameSourceFactory.Open($"rtsp://admin:{wrong}@127.0.0.1:{server.Port}/test"));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
        Assert.Contains("admin:***@", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, refused.Message, StringComparison.Ordinal);

        // Nobody listening.
        var unreachable = Assert.Throws<FrameSourceException>(
            () => FrameSourceFactory.Open($"rtsp://admin:{password}@127.0.0.1:{StreamServer.FreePort()}/test"));
        Assert.Contains("refused", unreachable.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(password, unreachable.Message, StringComparison.Ordinal);

        // Malformed addresses are explained without repeating the password either.
        foreach (var malformed in new[] { $"rtsp:/admin:{password}@cam/x", $"rtsp://admin:{password}@cam:70000/x", $"rtsp://admin:{password}@/x" })
        {
            var problem = FrameSourceFactory.Validate(malformed);
            Assert.NotNull(problem);
            Assert.DoesNotContain(password, problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_password_is_scrubbed_from_tool_output_in_every_spelling()
    {
        var uri = SourceUri.Parse("rtsp://user:p%40ss-w0rd@cam/x");
        var scrubbed = uri.Scrub("rtsp://user:p%40ss-w0rd@cam/x: 401; tried p@ss-w0rd");
        Assert.Equal("rtsp://user:***@cam/x: 401; tried ***", scrubbed);
        Assert.Equal("no secret here", SourceUri.Parse("rtsp://cam/x").Scrub("no secret here"));
    }

    [Theory]
    [InlineData("rtsp://", "names no host")]
    [InlineData("rtsp:///stream1", "names no host")]
    [InlineData("http://user:pw@/video.mjpg", "names no host")]
    [InlineData("rtsp://cam:99999/stream1", "port '99999'")]
    [InlineData("http://cam:web/video", "port 'web'")]
    [InlineData("rtsps://[fe80::1/stream", "unterminated IPv6")]
    [InlineData("https://my camera/video", "spaces")]
    [InlineData("rtsp://cam*north/stream1", "not a valid host")]
    public void A_bad_network_address_is_explained_without_connecting(string source, string expected)
    {
        var problem = FrameSourceFactory.Validate(source);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rtsp://admin:secret@192.168.1.64:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1")]
    [InlineData("rtsps://cam-north.local/stream")]
    [InlineData("http://10.0.0.5/video.mjpg")]
    [InlineData("https://[2001:db8::5]:8443/live?channel=1&subtype=0")]
    public void Camera_addresses_with_their_own_query_parameters_are_accepted(string source)
    {
        Assert.Null(FrameSourceFactory.Validate(source));
    }

    [Fact]
    public void A_missing_ffmpeg_names_the_package_to_install()
    {
        var options = new FfmpegSourceOptions { ToolDirectory = TestFiles.NewTempDirectory() };
        var e = Assert.Throws<FrameSourceException>(() => FfmpegFrameSource.Open(SourceUri.Parse("rtsp://127.0.0.1:1/x"), options));
        Assert.Contains("apt-get install ffmpeg", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5.1.9-0+deb12u1", 5)]
    [InlineData("4.4.2-0ubuntu0.22.04.1", 4)]
    [InlineData("n6.1.1", 6)]
    [InlineData("N-113284-g9a6b3c2e1f", 0)]
    [InlineData("", 0)]
    public void Ffmpeg_versions_are_read_for_the_options_they_understand(string version, int major)
    {
        Assert.Equal(major, FfmpegProbe.ParseMajorVersion(version));
    }

    /// <summary>Reads until the source throws (frames already in the pipe come first); a bounded loop.</summary>
    private static void ReadUntilFailure(IFrameSource source, VideoFrame frame)
    {
        for (var i = 0; i < 1000; i++)
        {
            if (!source.Read(frame))
            {
                Assert.Fail("a live stream reported a normal end instead of a failure");
            }
        }

        Assert.Fail("the source kept delivering frames after its server went away");
    }

    private static bool WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }
}
