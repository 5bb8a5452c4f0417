using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Evaluation;

/// <summary>
/// The "trimap" band of a ground-truth map (the band of a given width around object boundaries in
/// which DeepLab measures boundary accuracy): every pixel whose Euclidean distance to a boundary pixel
/// is at most the band width, a boundary pixel being one with a 4-neighbour of another label. Both
/// sides of a label change are boundary pixels, so the band does not depend on the direction of the
/// change: a mirrored or rotated map has the mirrored or rotated band. This is the one definition used
/// by <c>edgeseg eval</c>, the tests and the CRF benchmark.
/// </summary>
public static class BoundaryBand
{
    /// <summary>Writes 1 into <paramref name="band"/> for pixels within <paramref name="bandWidth"/> px of a boundary, else 0.</summary>
    public static void Compute(LabelMap truth, int bandWidth, Span<byte> band)
    {
        ArgumentNullException.ThrowIfNull(truth);
        Compute(truth.Labels, truth.Width, truth.Height, bandWidth, band);
    }

    /// <summary>
    /// Writes 1 into <paramref name="band"/> for pixels of the row-major <paramref name="width"/> ×
    /// <paramref name="height"/> map <paramref name="truth"/> within <paramref name="bandWidth"/> px of a
    /// boundary, else 0. A map without a label change has an empty band.
    /// </summary>
    public static unsafe void Compute(ReadOnlySpan<byte> truth, int width, int height, int bandWidth, Span<byte> band)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegative(bandWidth);
        if (truth.Length != width * height || band.Length != width * height)
        {
            throw new ArgumentException($"truth has {truth.Length} pixels and band {band.Length}, expected {width}x{height}", nameof(band));
        }

        int w = width, h = height;

        // Boundary pixels become 0, the rest 255; the distance transform then gives each pixel its
        // distance to the nearest boundary pixel.
        using var notBoundary = new Mat(h, w, MatType.CV_8UC1, Scalar.All(255));
        var boundaries = 0;
        for (var y = 0; y < h; y++)
        {
            var row = (byte*)notBoundary.Ptr(y);
            for (var x = 0; x < w; x++)
            {
                var l = truth[(y * w) + x];
                var edge = (x + 1 < w && truth[(y * w) + x + 1] != l) || (x > 0 && truth[(y * w) + x - 1] != l)
                           || (y + 1 < h && truth[((y + 1) * w) + x] != l) || (y > 0 && truth[((y - 1) * w) + x] != l);
                if (edge)
                {
                    row[x] = 0;
                    boundaries++;
                }
            }
        }

        if (boundaries == 0)
        {
            // No boundary, so nothing to be near: skip the transform, which has no zero to measure from.
            band.Clear();
            return;
        }

        using var distance = new Mat();
        Cv2.DistanceTransform(notBoundary, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        for (var y = 0; y < h; y++)
        {
            var row = (float*)distance.Ptr(y);
            for (var x = 0; x < w; x++)
            {
                band[(y * w) + x] = row[x] <= bandWidth ? (byte)1 : (byte)0;
            }
        }
    }

    /// <summary>
    /// The pixels of <paramref name="band"/> whose truth is one of <paramref name="classes"/> classes
    /// (as in <see cref="ConfusionMatrix"/>, other truth values count nowhere), and how many of them
    /// <paramref name="predicted"/> labels correctly. Trimap accuracy is <c>Correct / Total</c>.
    /// </summary>
    public static (long Correct, long Total) Count(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> band, int classes)
    {
        if (predicted.Length != truth.Length || band.Length != truth.Length)
        {
            throw new ArgumentException($"truth has {truth.Length} pixels, prediction {predicted.Length}, band {band.Length}", nameof(predicted));
        }

        long correct = 0, total = 0;
        for (var i = 0; i < truth.Length; i++)
        {
            var t = truth[i];
            if (band[i] == 0 || t >= classes)
            {
                continue;
            }

            total++;
            if (predicted[i] == t)
            {
                correct++;
            }
        }

        return (correct, total);
    }

    /// <summary>Share of the band's labelled pixels predicted correctly; NaN when the band holds none.</summary>
    public static double Accuracy(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> band, int classes)
    {
        var (correct, total) = Count(truth, predicted, band, classes);
        return total == 0 ? double.NaN : (double)correct / total;
    }
}
