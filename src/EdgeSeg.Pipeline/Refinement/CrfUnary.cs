namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// The unary term exactly as a DeepLab pipeline builds it: logits upsampled bilinearly with half-pixel
/// centres (PyTorch's <c>align_corners=False</c>: source = (destination + 0.5) × in/out − 0.5,
/// clamped to [0, last index]), softmax over the classes, energy −log p with p clipped at 1e-8.
/// Also the plain argmax baseline the CRF is compared with.
/// </summary>
public static class CrfUnary
{
    /// <summary>Probabilities below this are clipped before the logarithm (DeepLab's convention).</summary>
    public const float MinProbability = 1e-8f;

    /// <summary>−log(<see cref="MinProbability"/>): the largest unary energy.</summary>
    public const float MaxEnergy = 18.420681f;

    /// <summary>
    /// Writes the unary energy −log(max(softmax(upsampled logits), 1e-8)) of every class and pixel.
    /// </summary>
    /// <param name="scores">Logits NCHW with batch 1: <paramref name="classes"/> planes of scoreHeight × scoreWidth.</param>
    /// <param name="classes">Number of classes (planes).</param>
    /// <param name="scoreHeight">Rows of the score map.</param>
    /// <param name="scoreWidth">Columns of the score map.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="unary">Receives classes × height × width energies, planar (CHW).</param>
    public static void Compute(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, int width, int height, Span<float> unary)
    {
        ScoreMapCheck.Validate(scores.Length, classes, scoreHeight, scoreWidth, width, height);
        var plane = width * height;
        if (unary.Length < classes * plane)
        {
            throw new ArgumentException($"needs {classes * plane} values (classes × height × width), got {unary.Length}", nameof(unary));
        }

        var xs = BilinearAxis.Create(scoreWidth, width);
        var ys = BilinearAxis.Create(scoreHeight, height);
        var z = new float[classes];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var max = float.NegativeInfinity;
                for (var c = 0; c < classes; c++)
                {
                    z[c] = Sample(scores, c, scoreHeight, scoreWidth, ys[y], xs[x]);
                    max = MathF.Max(max, z[c]);
                }

                var sum = 0.0;
                for (var c = 0; c < classes; c++)
                {
                    sum += Math.Exp(z[c] - max);
                }

                var logSum = max + (float)Math.Log(sum);
                for (var c = 0; c < classes; c++)
                {
                    unary[(c * plane) + (y * width) + x] = MathF.Min(logSum - z[c], MaxEnergy);
                }
            }
        }
    }

    /// <summary>
    /// Plain argmax of the upsampled logits (equal to the argmax of the softmax and to the argmin of
    /// the unary): the baseline without any CRF.
    /// </summary>
    /// <param name="scores">Logits NCHW with batch 1.</param>
    /// <param name="classes">Number of classes (planes), 1..255.</param>
    /// <param name="scoreHeight">Rows of the score map.</param>
    /// <param name="scoreWidth">Columns of the score map.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="labels">Receives height × width class ids.</param>
    public static void Argmax(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, int width, int height, Span<byte> labels)
    {
        ScoreMapCheck.Validate(scores.Length, classes, scoreHeight, scoreWidth, width, height);
        if (labels.Length < width * height)
        {
            throw new ArgumentException($"needs {width * height} labels (height × width), got {labels.Length}", nameof(labels));
        }

        var xs = BilinearAxis.Create(scoreWidth, width);
        var ys = BilinearAxis.Create(scoreHeight, height);
        for (var y = 0; y < height; y++)
        {
            var yt = ys[y];
            for (var x = 0; x < width; x++)
            {
                var xt = xs[x];
                var best = 0;
                var bestValue = float.NegativeInfinity;
                for (var c = 0; c < classes; c++)
                {
                    var v = Sample(scores, c, scoreHeight, scoreWidth, yt, xt);
                    if (v > bestValue)
                    {
                        bestValue = v;
                        best = c;
                    }
                }

                labels[(y * width) + x] = (byte)best;
            }
        }
    }

    /// <summary>Bilinear sample in PyTorch's evaluation order (rows of the 2×2 block first).</summary>
    private static float Sample(ReadOnlySpan<float> scores, int c, int h, int w, BilinearTap yt, BilinearTap xt)
    {
        var plane = scores.Slice(c * h * w, h * w);
        var top = (xt.Weight0 * plane[(yt.Index0 * w) + xt.Index0]) + (xt.Weight1 * plane[(yt.Index0 * w) + xt.Index1]);
        var bottom = (xt.Weight0 * plane[(yt.Index1 * w) + xt.Index0]) + (xt.Weight1 * plane[(yt.Index1 * w) + xt.Index1]);
        return (yt.Weight0 * top) + (yt.Weight1 * bottom);
    }
}

/// <summary>One output position of a half-pixel-centre bilinear resampling: two source taps.</summary>
internal readonly record struct BilinearTap(int Index0, int Index1, float Weight0, float Weight1);

/// <summary>Tap tables for bilinear resampling with half-pixel centres along one axis.</summary>
internal static class BilinearAxis
{
    public static BilinearTap[] Create(int inSize, int outSize)
    {
        var taps = new BilinearTap[outSize];
        Fill(inSize, outSize, taps);
        return taps;
    }

    /// <summary>
    /// source = (destination + 0.5) × in/out − 0.5, clamped below at 0; the upper tap is clamped to the
    /// last index, as torch.nn.functional.interpolate(mode="bilinear", align_corners=False) does.
    /// </summary>
    public static void Fill(int inSize, int outSize, Span<BilinearTap> taps)
    {
        var scale = (float)inSize / outSize;
        for (var i = 0; i < outSize; i++)
        {
            var src = MathF.Max(((i + 0.5f) * scale) - 0.5f, 0f);
            var i0 = Math.Min((int)src, inSize - 1);
            var i1 = Math.Min(i0 + 1, inSize - 1);
            var l1 = src - i0;
            taps[i] = new BilinearTap(i0, i1, 1f - l1, l1);
        }
    }
}

/// <summary>Shared argument checks for a score map and the frame it belongs to.</summary>
internal static class ScoreMapCheck
{
    public static void Validate(int scoresLength, int classes, int scoreHeight, int scoreWidth, int width, int height)
    {
        if (classes is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "must be 1..255 (labels are bytes)");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (scoreWidth < 1 || scoreWidth > width)
        {
            throw new ArgumentOutOfRangeException(nameof(scoreWidth), scoreWidth, $"the score map must be 1..{width} columns wide (at most the frame width)");
        }

        if (scoreHeight < 1 || scoreHeight > height)
        {
            throw new ArgumentOutOfRangeException(nameof(scoreHeight), scoreHeight, $"the score map must be 1..{height} rows high (at most the frame height)");
        }

        var needed = (long)classes * scoreHeight * scoreWidth;
        if (scoresLength < needed)
        {
            throw new ArgumentException($"needs {needed} logits (classes × scoreHeight × scoreWidth, NCHW), got {scoresLength}", "scores");
        }
    }
}
