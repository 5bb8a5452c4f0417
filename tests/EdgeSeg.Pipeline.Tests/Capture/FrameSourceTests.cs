using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Tests.Capture;

public sealed class FrameSourceTests
{
    /// <summary>Writes a short MJPEG AVI whose frame i is filled with grey level 20·i.</summary>
    internal static string WriteVideo(string dir, int frames, int width = 160, int height = 96)
    {
        var path = Path.Combine(dir, "clip.avi");
        using var writer = new VideoWriter(path, FourCC.MJPG, 10, new Size(width, height));
        Assert.True(writer.IsOpened(), "OpenCV could not open a video writer");
        for (var i = 0; i < frames; i++)
        {
            using var mat = new Mat(height, width, MatType.CV_8UC3, Scalar.All(20 * i));
            writer.Write(mat);
        }

        return path;
    }

    [Fact]
    public void A_file_is_read_to_its_end_and_then_reports_the_end()
    {
        var path = WriteVideo(TestFiles.NewTempDirectory(), 5);
        using var source = FrameSourceFactory.Open($"file://{path}");
        var frame = new VideoFrame();
        var levels = new List<int>();
        while (source.Read(frame))
        {
            levels.Add(frame.Pixels[0]);
        }

        Assert.Equal(5, levels.Count);
        Assert.Equal((160, 96), (frame.Width, frame.Height));
        for (var i = 0; i < 5; i++)
        {
            Assert.InRange(levels[i], (20 * i) - 4, (20 * i) + 4);
        }
    }

    [Fact]
    public void A_looping_file_starts_again_after_its_last_frame()
    {
        var path = WriteVideo(TestFiles.NewTempDirectory(), 3);
        using var source = FrameSourceFactory.Open($"file://{path}?loop=true");
        var frame = new VideoFrame();
        var levels = new List<int>();
        for (var i = 0; i < 7; i++)
        {
            Assert.True(source.Read(frame));
            levels.Add(frame.Pixels[0]);
            Assert.Equal(i, frame.Sequence);
        }

        Assert.InRange(levels[3], 0, 4);
        Assert.InRange(levels[6], 0, 4);
    }

    [Theory]
    [InlineData("foo://camera", "unsupported scheme 'foo'")]
    [InlineData("north.mp4", "is not a URI")]
    [InlineData("", "source is empty")]
    [InlineData("file:///no/such/video.mp4", "video file '/no/such/video.mp4' does not exist")]
    [InlineData("file:///x.mp4?lop=true", "unknown parameter 'lop'")]
    [InlineData("file:///x.mp4?loop=maybe", "'loop=maybe'")]
    [InlineData("v4l2://video0", "expected a device path")]
    [InlineData("v4l2:///dev/video0?width=-5", "'width=-5'")]
    public void A_bad_source_is_explained_without_opening_anything(string source, string expected)
    {
        var problem = FrameSourceFactory.Validate(source);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_file_path_is_taken_from_the_base_directory()
    {
        var dir = TestFiles.NewTempDirectory();
        WriteVideo(dir, 2);
        Assert.Null(FrameSourceFactory.Validate("file://clip.avi", dir));
        Assert.NotNull(FrameSourceFactory.Validate("file://clip.avi", Path.GetTempPath()));
    }

    [Fact]
    public void Passwords_never_appear_in_the_redacted_form()
    {
        var uri = SourceUri.Parse("rtsp://admin:s3cret@10.0.0.5:554/stream1?x=1");
        Assert.Equal("rtsp://admin:***@10.0.0.5:554/stream1?x=1", uri.Redacted);
        Assert.DoesNotContain("s3cret", uri.Redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Opening_a_missing_device_fails_with_its_name()
    {
        var e = Assert.Throws<FrameSourceException>(() => FrameSourceFactory.Open("v4l2:///dev/video97"));
        Assert.Contains("/dev/video97", e.Message, StringComparison.Ordinal);
    }
}
