using System.Globalization;
using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>
/// Writes rendered image/label pairs for training and evaluation: <c>DIR/images/NNNNNN.png</c> (an
/// ordinary RGB PNG) and <c>DIR/labels/NNNNNN.png</c> (8-bit, one Cityscapes train id per pixel).
/// Every sample is its own street (scene seed derived from the dataset seed and the index) seen at
/// its own moment, so a dataset is diverse, and the same arguments always give the same files.
/// </summary>
public sealed class DatasetWriter
{
    /// <summary>Multiplier that spreads dataset seeds apart so that datasets of different seeds share no scene.</summary>
    public const long SeedStride = 100_003;

    public DatasetWriter(int width, int height, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        Width = width;
        Height = height;
        Seed = seed;
    }

    public int Width { get; }

    public int Height { get; }

    public long Seed { get; }

    /// <summary>The scene seed of sample <paramref name="index"/>.</summary>
    public long SceneSeed(int index) => checked((Seed * SeedStride) + index);

    /// <summary>The moment (seconds into the scene's video) at which sample <paramref name="index"/> is taken.</summary>
    public double SampleTime(int index) =>
        (SceneRandom.Mix((ulong)SceneSeed(index) ^ 0x7135UL) >> 11) * (1.0 / (1UL << 53)) * 120.0;

    /// <summary>Renders sample <paramref name="index"/> into the given buffers.</summary>
    public void Render(int index, VideoFrame frame, LabelMap labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var renderer = new StreetSceneRenderer(SceneSeed(index), Width, Height);
        renderer.RenderAt(SampleTime(index), index, frame, labels);
    }

    /// <summary>
    /// Writes samples [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>)
    /// into <paramref name="directory"/> using up to <paramref name="parallelism"/> threads; the files do
    /// not depend on the thread count. Returns the number written.
    /// </summary>
    public int Write(string directory, int count, int first = 0, int parallelism = 1, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        var images = Path.Combine(directory, "images");
        var labelsDir = Path.Combine(directory, "labels");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(labelsDir);
        var done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken };
        Parallel.For(
            first,
            first + count,
            options,
            () => (Frame: new VideoFrame(), Labels: new LabelMap()),
            (index, _, buffers) =>
            {
                Render(index, buffers.Frame, buffers.Labels);
                var name = index.ToString("D6", CultureInfo.InvariantCulture) + ".png";
                SavePair(buffers.Frame, buffers.Labels, Path.Combine(images, name), Path.Combine(labelsDir, name));
                var written = Interlocked.Increment(ref done);
                progress?.Report(written);
                return buffers;
            },
            _ => { });
        return done;
    }

    /// <summary>Saves a BGR frame as a colour PNG and a label map as an 8-bit grey PNG.</summary>
    public static unsafe void SavePair(VideoFrame frame, LabelMap labels, string imagePath, string labelPath)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(labels);
        fixed (byte* p = frame.Buffer)
        fixed (byte* l = labels.Buffer)
        {
            using var image = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, (IntPtr)p);
            using var label = Mat.FromPixelData(labels.Height, labels.Width, MatType.CV_8UC1, (IntPtr)l);
            if (!Cv2.ImWrite(imagePath, image) || !Cv2.ImWrite(labelPath, label))
            {
                throw new IOException($"could not write {imagePath} or {labelPath}");
            }
        }
    }
}
