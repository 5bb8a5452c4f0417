namespace EdgeSeg.Pipeline.Frames;

/// <summary>
/// A model's class scores (logits) on its output grid, C×H×W (class-major), viewed over a buffer the
/// model owns: valid until the model runs again, never copied.
/// </summary>
public readonly ref struct ScoreMap
{
    public ScoreMap(ReadOnlySpan<float> scores, int classes, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (scores.Length != (long)classes * height * width)
        {
            throw new ArgumentException($"{scores.Length} scores for {classes} classes on {width}x{height}: expected {(long)classes * height * width}", nameof(scores));
        }

        Scores = scores;
        Classes = classes;
        Height = height;
        Width = width;
    }

    /// <summary>C×H×W logits; empty for a model that outputs labels instead of scores.</summary>
    public ReadOnlySpan<float> Scores { get; }

    public int Classes { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>True when the model gave no scores (it outputs labels), so nothing can refine them.</summary>
    public bool IsEmpty => Scores.IsEmpty;
}

/// <summary>A packed BGR24 image, row-major, stride = width × 3, viewed over a buffer someone else owns.</summary>
public readonly ref struct BgrImage
{
    public BgrImage(ReadOnlySpan<byte> pixels, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (pixels.Length != (long)width * height * 3)
        {
            throw new ArgumentException($"{pixels.Length} bytes for a {width}x{height} BGR image: expected {(long)width * height * 3}", nameof(pixels));
        }

        Pixels = pixels;
        Width = width;
        Height = height;
    }

    public ReadOnlySpan<byte> Pixels { get; }

    public int Width { get; }

    public int Height { get; }
}
