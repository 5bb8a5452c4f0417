using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Rendering;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Tests.Rendering;

public sealed class OverlayRendererTests
{
    [Fact]
    public void Each_pixel_is_blended_with_its_class_colour()
    {
        var frame = new VideoFrame();
        frame.EnsureSize(400, 200);
        frame.Pixels.Fill(100);
        var labels = new LabelMap(4, 2);
        labels.Labels.Fill(13); // car: RGB (0, 0, 142)
        labels.Labels[0] = LabelMap.Ignore;

        using var image = OverlayRenderer.Render(frame, labels, LabelSet.Cityscapes, opacity: 0.5, legend: false);
        var car = image.At<Vec3b>(150, 350);
        Assert.Equal((121, 50, 50), (car.Item0, car.Item1, car.Item2));
        var ignored = image.At<Vec3b>(10, 10);
        Assert.Equal((100, 100, 100), (ignored.Item0, ignored.Item1, ignored.Item2));
    }

    [Fact]
    public void The_legend_is_drawn_in_the_top_left_corner()
    {
        var frame = new VideoFrame();
        frame.EnsureSize(400, 200);
        frame.Pixels.Fill(255);
        var labels = new LabelMap(400, 200);
        labels.Labels.Fill(0);

        using var plain = OverlayRenderer.Render(frame, labels, LabelSet.Cityscapes, legend: false);
        using var withLegend = OverlayRenderer.Render(frame, labels, LabelSet.Cityscapes, legend: true);
        using var diff = new Mat();
        Cv2.Absdiff(plain, withLegend, diff);
        using var grey = diff.CvtColor(ColorConversionCodes.BGR2GRAY);
        var changed = Cv2.BoundingRect(grey);
        Assert.True(changed.Width > 0 && changed.X < 20 && changed.Y < 20 && changed.Bottom < 100, $"legend at {changed}");
    }
}
