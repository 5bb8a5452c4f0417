using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Tests.Synthetic;

public sealed class DatasetWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edgeseg-dataset-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Writes_image_and_label_pngs_that_decode_to_the_rendered_frame_and_labels()
    {
        var writer = new DatasetWriter(96, 48, seed: 3);
        Assert.Equal(3, writer.Write(_root, 3));
        var frame = new VideoFrame();
        var labels = new LabelMap();
        writer.Render(1, frame, labels);

        using var image = Cv2.ImRead(Path.Combine(_root, "images", "000001.png"), ImreadModes.Color);
        using var label = Cv2.ImRead(Path.Combine(_root, "labels", "000001.png"), ImreadModes.Unchanged);
        Assert.Equal(MatType.CV_8UC3, image.Type());
        Assert.Equal(MatType.CV_8UC1, label.Type());
        Assert.Equal(96, label.Width);
        Assert.Equal(48, label.Height);
        image.GetArray(out Vec3b[] pixels);
        label.GetArray(out byte[] ids);
        Assert.Equal(labels.Labels.ToArray(), ids);
        Assert.Equal(frame.Width * frame.Height, pixels.Length);
        for (var i = 0; i < pixels.Length; i++)
        {
            // PNG is lossless: every channel of every pixel, in OpenCV's BGR order.
            Assert.Equal(frame.Pixels[i * 3], pixels[i].Item0);
            Assert.Equal(frame.Pixels[(i * 3) + 1], pixels[i].Item1);
            Assert.Equal(frame.Pixels[(i * 3) + 2], pixels[i].Item2);
        }
    }

    [Fact]
    public void Output_does_not_depend_on_the_number_of_threads()
    {
        var a = Path.Combine(_root, "a");
        var b = Path.Combine(_root, "b");
        new DatasetWriter(64, 32, seed: 9).Write(a, 4, parallelism: 1);
        new DatasetWriter(64, 32, seed: 9).Write(b, 4, parallelism: 3);
        foreach (var sub in new[] { "images", "labels" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(a, sub)))
            {
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(b, sub, Path.GetFileName(file))));
            }
        }
    }

    [Fact]
    public void Samples_are_different_streets_and_datasets_of_different_seeds_share_none()
    {
        var one = new DatasetWriter(64, 32, seed: 1);
        var two = new DatasetWriter(64, 32, seed: 2);
        var first = Enumerable.Range(0, 1000).Select(i => one.SceneSeed(i)).ToHashSet();
        Assert.Equal(1000, first.Count);
        Assert.DoesNotContain(first, s => Enumerable.Range(0, 1000).Select(i => two.SceneSeed(i)).Contains(s));
        Assert.NotEqual(one.SampleTime(0), one.SampleTime(1));
    }
}
