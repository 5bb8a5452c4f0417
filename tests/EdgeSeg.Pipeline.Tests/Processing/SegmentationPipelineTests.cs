using System.Collections.Concurrent;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Statistics;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeSeg.Pipeline.Tests.Processing;

public sealed class SegmentationPipelineTests
{
    private static async Task<List<WindowStats>> RunAsync(CameraDefinition camera, int windows)
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions { IntraOpThreads = 1 });
        var received = new ConcurrentQueue<WindowStats>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var pipeline = new SegmentationPipeline(
            segmenter, [camera], WindowPolicy.Frames(2), w =>
            {
                received.Enqueue(w);
                if (received.Count >= windows)
                {
                    cts.Cancel();
                }
            },
            NullLoggerFactory.Instance);
        await pipeline.RunAsync(cts.Token);
        return [.. received];
    }

    [Fact]
    public async Task Refined_labels_are_the_ones_counted()
    {
        var refiner = new FixedRefiner(label: 1, inTime: true);
        var windows = await RunAsync(
            new CameraDefinition("cam", "synthetic://street?size=128x64&fps=60", null, new RefinementStage(refiner, TimeSpan.FromSeconds(1))), 3);

        Assert.True(windows.Count >= 3);
        Assert.All(windows, w => Assert.Equal(1.0, w.Classes[1].Mean, 9));
        Assert.All(windows, w => Assert.Equal(0, w.RefinementSkips));
        Assert.True(refiner.Calls >= 6);
    }

    [Fact]
    public async Task A_refinement_over_budget_leaves_the_frame_unrefined_and_is_counted()
    {
        var refiner = new FixedRefiner(label: 1, inTime: false);
        var windows = await RunAsync(
            new CameraDefinition("cam", "synthetic://street?size=128x64&fps=60", null, new RefinementStage(refiner, TimeSpan.FromMilliseconds(1))), 3);

        // Had the refiner's all-green labels been used, green would hold the whole view.
        Assert.All(windows, w => Assert.True(w.Classes[1].Max < 0.999, $"green share {w.Classes[1].Max}"));
        Assert.All(windows, w => Assert.Equal(2, w.RefinementSkips));
    }

    [Fact]
    public async Task Windows_of_a_camera_carry_growing_sequence_numbers_and_sum_to_one()
    {
        var windows = await RunAsync(new CameraDefinition("cam", "synthetic://street?size=128x64&fps=60"), 4);
        Assert.Equal(Enumerable.Range(1, windows.Count).Select(i => (long)i), windows.Select(w => w.Sequence));
        Assert.All(windows, w => Assert.Equal(1.0, w.Classes.Sum(c => c.Mean), 6));
        Assert.All(windows, w => Assert.Equal("cam", w.Camera));
    }
}
