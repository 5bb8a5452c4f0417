using System.Diagnostics;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Pipeline.Tests.Synthetic;

public sealed class SyntheticFrameSourceTests
{
    [Fact]
    public void Defaults_are_seed_0_1024x512_at_15_fps()
    {
        using var source = SyntheticFrameSource.Open(new Uri("synthetic://street"));
        Assert.Equal(0, source.Seed);
        Assert.Equal(1024, source.Width);
        Assert.Equal(512, source.Height);
        Assert.Equal(15, source.NominalFps);
    }

    [Fact]
    public void Query_keys_set_seed_size_and_frame_rate()
    {
        using var source = SyntheticFrameSource.Open(new Uri("synthetic://street?seed=7&size=320x160&fps=2.5"));
        Assert.Equal(7, source.Seed);
        Assert.Equal(320, source.Width);
        Assert.Equal(160, source.Height);
        Assert.Equal(2.5, source.NominalFps);
        Assert.Contains("seed=7", source.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("synthetic://street?colour=red", "colour")]
    [InlineData("synthetic://street?seed=1&seed=2", "seed")]
    [InlineData("synthetic://highway?seed=1", "street")]
    [InlineData("file://street?seed=1", "synthetic")]
    [InlineData("synthetic://street/extra", "path")]
    public void Unknown_keys_scenes_and_schemes_are_argument_errors_that_name_the_problem(string uri, string named)
    {
        var ex = Assert.Throws<ArgumentException>(() => SyntheticFrameSource.Open(new Uri(uri)));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("synthetic://street?size=1024", "size")]
    [InlineData("synthetic://street?size=10x10", "size")]
    [InlineData("synthetic://street?size=-5x100", "size")]
    [InlineData("synthetic://street?size=axb", "size")]
    [InlineData("synthetic://street?fps=0", "fps")]
    [InlineData("synthetic://street?fps=fast", "fps")]
    [InlineData("synthetic://street?seed=seven", "seed")]
    public void Bad_values_are_format_errors_that_name_the_key_and_what_is_allowed(string uri, string key)
    {
        var ex = Assert.Throws<FormatException>(() => SyntheticFrameSource.Open(new Uri(uri)));
        Assert.StartsWith(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains("allowed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_do_not_wait_for_the_frame_rate_and_number_frames_in_order()
    {
        using var source = SyntheticFrameSource.Open(new Uri("synthetic://street?seed=3&size=128x64&fps=1"));
        var frame = new VideoFrame();
        var labels = new LabelMap();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(source.Read(frame, labels));
            Assert.Equal(i, frame.Sequence);
        }

        // Five frames at 1 fps would take 4 s if the source paced itself.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        Assert.Equal(128, labels.Width);
    }

    [Fact]
    public void The_source_gives_the_renderer_frames_in_sequence()
    {
        using var source = SyntheticFrameSource.Open(new Uri("synthetic://street?seed=4&size=160x80&fps=10"));
        var frame = new VideoFrame();
        var labels = new LabelMap();
        source.Read(frame, labels);
        source.Read(frame, labels);
        var expectedFrame = new VideoFrame();
        var expectedLabels = new LabelMap();
        new StreetSceneRenderer(4, 160, 80).Render(1, 10, expectedFrame, expectedLabels);
        Assert.True(frame.Pixels.SequenceEqual(expectedFrame.Pixels));
        Assert.True(labels.Labels.SequenceEqual(expectedLabels.Labels));

        // The unlabelled read renders the same image.
        var plain = new VideoFrame();
        source.Read(plain);
        new StreetSceneRenderer(4, 160, 80).Render(2, 10, expectedFrame, expectedLabels);
        Assert.True(plain.Pixels.SequenceEqual(expectedFrame.Pixels));
    }
}
