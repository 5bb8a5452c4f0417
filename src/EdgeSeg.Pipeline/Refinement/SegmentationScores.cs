using OpenCvSharp;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// The accuracy figures of the CRF reference cases: mean IoU over the classes present in the ground
/// truth, pixel accuracy in the trimap band around ground-truth boundaries, and agreement between
/// two label maps. Ground-truth pixels labelled 255 count nowhere.
/// </summary>
internal static class SegmentationScores
{
    /// <summary>Mean IoU over the classes that occur in <paramref name="truth"/>.</summary>
    public static double MeanIou(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth, int classes)
    {
        var intersection = new long[classes];
        var union = new long[classes];
        var present = new bool[classes];
        for (var i = 0; i < truth.Length; i++)
        {
            var t = truth[i];
            if (t >= classes)
            {
                continue;
            }

            var p = predicted[i];
            present[t] = true;
            if (p == t)
            {
                intersection[t]++;
                union[t]++;
            }
            else
            {
                union[t]++;
                if (p < classes)
                {
                    union[p]++;
                }
            }
        }

        double sum = 0;
        var count = 0;
        for (var c = 0; c < classes; c++)
        {
            if (present[c])
            {
                sum += (double)intersection[c] / union[c];
                count++;
            }
        }

        return count == 0 ? 0 : sum / count;
    }

    /// <summary>
    /// Marks the trimap band: pixels whose Euclidean distance to a ground-truth label change is at most
    /// <paramref name="radius"/> pixels, a label change being a pixel whose right or lower neighbour
    /// has another label. This reproduces the raw and reference figures of shared/reference/crf's
    /// README to the third decimal.
    /// </summary>
    public static bool[] TrimapBand(ReadOnlySpan<byte> truth, int width, int height, int radius)
    {
        using var notEdge = new Mat(height, width, MatType.CV_8UC1, Scalar.All(255));
        var edges = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var v = truth[(y * width) + x];
                var edge = (x + 1 < width && truth[(y * width) + x + 1] != v)
                    || (y + 1 < height && truth[((y + 1) * width) + x] != v);
                if (edge)
                {
                    notEdge.Set(y, x, (byte)0);
                    edges++;
                }
            }
        }

        var band = new bool[width * height];
        if (edges == 0)
        {
            return band;
        }

        using var distance = new Mat();
        Cv2.DistanceTransform(notEdge, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                band[(y * width) + x] = distance.At<float>(y, x) <= radius;
            }
        }

        return band;
    }

    /// <summary>Pixel accuracy inside <paramref name="band"/> (ignore pixels excluded).</summary>
    public static double BandAccuracy(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth, bool[] band, int classes)
    {
        long hits = 0, total = 0;
        for (var i = 0; i < truth.Length; i++)
        {
            if (!band[i] || truth[i] >= classes)
            {
                continue;
            }

            total++;
            if (predicted[i] == truth[i])
            {
                hits++;
            }
        }

        return total == 0 ? 1 : (double)hits / total;
    }

    /// <summary>Share of pixels on which two label maps agree.</summary>
    public static double Agreement(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        long same = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i])
            {
                same++;
            }
        }

        return (double)same / a.Length;
    }
}
