using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Tests.Capture;

/// <summary>GStreamer pipelines through a real gst-launch-1.0, with videotestsrc as the camera.</summary>
[Collection(FfmpegProcesses.Name)]
public sealed class GStreamerSourceTests
{
    [SkippableFact]
    public void A_test_pattern_pipeline_delivers_frames_of_its_size_in_its_colours_and_leaves_no_process()
    {
        Requires.Program("gst-launch-1.0", "gstreamer1.0-tools");
        // SMPTE bars: white, then yellow.
        using (var source = FrameSourceFactory.Open("gst://videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240,framerate=15/1"))
        {
            var gst = Assert.IsType<FfmpegFrameSource>(source);
            Assert.Equal("gst-launch-1.0", gst.Tool);
            Assert.Equal((320, 240), (gst.Width, gst.Height));
            Assert.Equal(15, gst.NominalFps!.Value, 3);
            Assert.True(gst.IsLive);
            var frame = new VideoFrame();
            for (var i = 0; i < 5; i++)
            {
                Assert.True(source.Read(frame));
            }

            var px = frame.Pixels;
            var white = ((20 * 320) + 10) * 3;
            Assert.All(new[] { px[white], px[white + 1], px[white + 2] }, v => Assert.InRange(v, 170, 255));
            var yellow = ((20 * 320) + 68) * 3;
            Assert.InRange(px[yellow], 0, 60);
            Assert.InRange(px[yellow + 1], 170, 255);
            Assert.InRange(px[yellow + 2], 170, 255);
            Assert.Equal(4, frame.Sequence);
        }

        Assert.True(ChildProcesses.WaitUntilNone("gst-launch-1.0", TimeSpan.FromSeconds(5)), "a gst-launch-1.0 outlived the source");
    }

    [SkippableFact]
    public void A_pipeline_with_an_unknown_element_is_refused_with_gstreamers_reason()
    {
        Requires.Program("gst-launch-1.0", "gstreamer1.0-tools");
        var e = Assert.Throws<FrameSourceException>(() => FrameSourceFactory.Open("gst://nosuchelement ! videoconvert"));
        Assert.Contains("no element \"nosuchelement\"", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gst://", "names no pipeline")]
    [InlineData("gst://videotestsrc ! fdsink", "without a sink")]
    [InlineData("gst://videotestsrc !", "ends with '!'")]
    public void Bad_pipelines_are_refused_before_anything_runs(string source, string reason)
    {
        Assert.Contains(reason, FrameSourceFactory.Validate(source), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_size_is_pinned_so_a_pipeline_reopened_reads_the_same_frames()
    {
        Requires.Program("gst-launch-1.0", "gstreamer1.0-tools");
        const string Uri = "gst://videotestsrc is-live=true ! video/x-raw,width=160,height=96,framerate=30/1";
        for (var i = 0; i < 2; i++)
        {
            using var source = FrameSourceFactory.Open(Uri);
            var frame = new VideoFrame();
            Assert.True(source.Read(frame));
            Assert.Equal((160, 96), (frame.Width, frame.Height));
        }
    }
}
