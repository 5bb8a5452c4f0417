namespace EdgeSeg.Pipeline.Frames;

/// <summary>
/// One class id per pixel, row-major. Ids are the model's label set (Cityscapes train ids for the
/// bundled model); <see cref="Ignore"/> marks pixels that belong to no class.
/// </summary>
public sealed class LabelMap
{
    /// <summary>Label of pixels that count for no class (Cityscapes convention).</summary>
    public const byte Ignore = 255;

    private byte[] _labels = [];

    public LabelMap()
    {
    }

    public LabelMap(int width, int height) => EnsureSize(width, height);

    public int Width { get; private set; }

    public int Height { get; private set; }

    public int Length => Width * Height;

    public byte[] Buffer => _labels;

    public Span<byte> Labels => _labels.AsSpan(0, Length);

    public void EnsureSize(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var needed = checked(width * height);
        if (_labels.Length < needed)
        {
            _labels = GC.AllocateUninitializedArray<byte>(needed, pinned: true);
        }

        Width = width;
        Height = height;
    }
}
