namespace EdgeSeg.Pipeline.Frames;

/// <summary>
/// A frame in packed BGR24 (OpenCV's native order), row-major, stride = <see cref="Width"/> × 3.
/// Instances are reused: a source writes into a frame handed to it, so the hot path allocates
/// nothing once the buffer has reached the stream's size.
/// </summary>
public sealed class VideoFrame
{
    private byte[] _pixels = [];

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Bytes per row.</summary>
    public int Stride => Width * 3;

    /// <summary>Position of the frame in its source, counted from 0.</summary>
    public long Sequence { get; set; }

    /// <summary>
    /// When the frame was handed to the pipeline (UTC), stamped by the capture worker: the start of the
    /// latency a window reports. Sources leave it alone (a paced file waits between its read and this).
    /// </summary>
    public DateTimeOffset Timestamp { get; set; }

    /// <summary>The backing array; it may be longer than <see cref="Length"/>.</summary>
    public byte[] Buffer => _pixels;

    /// <summary>Number of bytes that hold the image.</summary>
    public int Length => Width * Height * 3;

    /// <summary>The image bytes, BGR interleaved.</summary>
    public Span<byte> Pixels => _pixels.AsSpan(0, Length);

    /// <summary>Resizes the frame, reallocating only when the buffer is too small.</summary>
    public void EnsureSize(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var needed = checked(width * height * 3);
        if (_pixels.Length < needed)
        {
            // Pinned so that native code (OpenCV, ONNX Runtime) can wrap the buffer without copying.
            _pixels = GC.AllocateUninitializedArray<byte>(needed, pinned: true);
        }

        Width = width;
        Height = height;
    }

    /// <summary>Copies size, pixels and metadata into <paramref name="target"/>.</summary>
    public void CopyTo(VideoFrame target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.EnsureSize(Width, Height);
        Pixels.CopyTo(target.Pixels);
        target.Sequence = Sequence;
        target.Timestamp = Timestamp;
    }
}
