using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// The images of a folder (PNG, JPEG, BMP; DIR/images/ when the folder is a rendered dataset), read once
/// in name order: calibration frames from a camera's own recordings.
/// </summary>
public sealed class ImageFolderSource : IFrameSource
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];
    private readonly string[] _images;
    private int _next;

    public ImageFolderSource(string directory)
    {
        var folder = Directory.Exists(Path.Combine(directory, "images")) ? Path.Combine(directory, "images") : directory;
        if (!Directory.Exists(folder))
        {
            throw new FrameSourceException($"image folder '{directory}' does not exist");
        }

        _images = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (_images.Length == 0)
        {
            throw new FrameSourceException($"image folder '{folder}' has no PNG, JPEG or BMP images");
        }

        Description = $"folder {folder} ({_images.Length} images)";
    }

    public string Description { get; }

    public double? NominalFps => null;

    public bool IsLive => false;

    public int Count => _images.Length;

    public bool Read(VideoFrame target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (_next >= _images.Length)
        {
            return false;
        }

        var path = _images[_next];
        using var image = Cv2.ImRead(path, ImreadModes.Color);
        if (image.Empty())
        {
            throw new FrameSourceException($"'{path}' is not a readable image");
        }

        target.EnsureSize(image.Width, image.Height);
        MatRows.CopyTo(image, target.Pixels, target.Stride, image.Height);
        target.Sequence = _next++;
        return true;
    }

    public void Dispose()
    {
    }
}
