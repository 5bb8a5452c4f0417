using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Rendering;
using EdgeSeg.Pipeline.Statistics;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Tests.Rendering;

public sealed class OverlayFeedTests
{
    [Fact]
    public async Task Viewers_that_ask_together_share_one_overlay_and_later_ones_get_a_newer_frame()
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions { IntraOpThreads = 1 });
        using var pipeline = new SegmentationPipeline(
            segmenter, [new CameraDefinition("cam", "synthetic://street?size=96x48&fps=30")], WindowPolicy.Frames(5), _ => { }, NullLoggerFactory.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = pipeline.RunAsync(cts.Token);
        var feed = new OverlayFeed(pipeline.Cameras[0], segmenter.Model.Labels);
        Assert.Null(feed.Latest);

        var asked = Enumerable.Range(0, 4).Select(_ => feed.NextAsync(cts.Token)).ToList();
        var overlays = await Task.WhenAll(asked);
        Assert.All(overlays, o => Assert.Same(overlays[0], o));
        Assert.Same(overlays[0], feed.Latest);
        using (var image = Cv2.ImDecode(overlays[0].Jpeg, ImreadModes.Color))
        {
            Assert.Equal((96, 48), (image.Width, image.Height));
            Assert.Equal((96, 48), (overlays[0].Width, overlays[0].Height));
        }

        var later = await feed.NextAsync(cts.Token);
        Assert.True(later.Sequence > overlays[0].Sequence, $"frame {later.Sequence} after {overlays[0].Sequence}");

        // A request on a camera that delivers nothing more ends with its token, and the pipeline goes on.
        await cts.CancelAsync();
        await run;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => feed.NextAsync(new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token));
    }

    [Fact]
    public void Snapshot_requests_made_before_a_frame_are_all_served_by_it()
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions { IntraOpThreads = 1 });
        using var pipeline = new SegmentationPipeline(
            segmenter, [new CameraDefinition("cam", "synthetic://street?size=96x48")], WindowPolicy.Frames(5), _ => { }, NullLoggerFactory.Instance);
        var camera = pipeline.Cameras[0];
        var served = new List<int>();
        camera.RequestSnapshot((in SegmentedFrame _) => served.Add(1));
        camera.RequestSnapshot((in SegmentedFrame _) => served.Add(2));
        var handler = camera.TakeSnapshotRequest();
        Assert.NotNull(handler);
        Assert.Null(camera.TakeSnapshotRequest());
        handler(default);
        Assert.Equal([1, 2], served);
    }
}
