using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// A folder of image/label PNG pairs as written by <c>edgeseg dataset render</c>: DIR/images/NAME.png
/// (colour) and DIR/labels/NAME.png (8-bit class ids, 255 = ignore), read in name order, once.
/// </summary>
public sealed class LabeledImageFolderSource : ILabeledFrameSource
{
    private readonly string[] _images;
    private readonly string _labels;
    private int _next;

    public LabeledImageFolderSource(string directory)
    {
        var images = Path.Combine(directory, "images");
        _labels = Path.Combine(directory, "labels");
        if (!Directory.Exists(images) || !Directory.Exists(_labels))
        {
            throw new FrameSourceException($"dataset folder '{directory}' needs images/ and labels/ subfolders");
        }

        _images = Directory.GetFiles(images, "*.png").Order(StringComparer.Ordinal).ToArray();
        if (_images.Length == 0)
        {
            throw new FrameSourceException($"dataset folder '{directory}' has no PNG images in images/");
        }

        Description = $"dataset {directory} ({_images.Length} images)";
    }

    public string Description { get; }

    public double? NominalFps => null;

    public bool IsLive => false;

    public int Count => _images.Length;

    public bool Read(VideoFrame target) => Read(target, null);

    public bool Read(VideoFrame target, LabelMap? truth)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (_next >= _images.Length)
        {
            return false;
        }

        var imagePath = _images[_next];
        var labelPath = Path.Combine(_labels, Path.GetFileName(imagePath));
        using (var image = Cv2.ImRead(imagePath, ImreadModes.Color))
        {
            if (image.Empty())
            {
                throw new FrameSourceException($"'{imagePath}' is not a readable image");
            }

            target.EnsureSize(image.Width, image.Height);
            MatRows.CopyTo(image, target.Pixels, target.Stride, image.Height);
        }

        if (truth is not null)
        {
            using var labels = Cv2.ImRead(labelPath, ImreadModes.Unchanged);
            if (labels.Empty() || labels.Type() != MatType.CV_8UC1)
            {
                throw new FrameSourceException($"'{labelPath}' is missing or not an 8-bit single-channel label image");
            }

            truth.EnsureSize(labels.Width, labels.Height);
            if (labels.Width != target.Width || labels.Height != target.Height)
            {
                throw new FrameSourceException($"'{labelPath}' is {labels.Width}x{labels.Height}, its image {target.Width}x{target.Height}");
            }

            MatRows.CopyTo(labels, truth.Labels, truth.Width, truth.Height);
        }

        target.Sequence = _next++;
        return true;
    }

    public void Dispose()
    {
    }
}
