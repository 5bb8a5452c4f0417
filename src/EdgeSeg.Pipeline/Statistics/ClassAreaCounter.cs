using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Statistics;

/// <summary>Pixel share of each class in a label map.</summary>
public static class ClassAreaCounter
{
    /// <summary>
    /// Counts labels into <paramref name="counts"/> (cleared first) and returns the number of pixels that
    /// belong to a class. Ignore (255) and ids at or beyond counts.Length count for nothing.
    /// </summary>
    public static long Count(ReadOnlySpan<byte> labels, Span<long> counts)
    {
        // A full 256-bin histogram has no branch per pixel; four of them interleaved avoid the stall of
        // incrementing the same bin from consecutive pixels (large uniform regions are the common case).
        Span<int> h = stackalloc int[256 * 4];
        h.Clear();
        var i = 0;
        for (; i + 4 <= labels.Length; i += 4)
        {
            h[labels[i]]++;
            h[256 + labels[i + 1]]++;
            h[512 + labels[i + 2]]++;
            h[768 + labels[i + 3]]++;
        }

        for (; i < labels.Length; i++)
        {
            h[labels[i]]++;
        }

        counts.Clear();
        long total = 0;
        var classes = Math.Min(counts.Length, LabelMap.Ignore);
        for (var c = 0; c < classes; c++)
        {
            long n = h[c] + h[256 + c] + h[512 + c] + h[768 + c];
            counts[c] = n;
            total += n;
        }

        return total;
    }

    /// <summary>
    /// Writes each class's share of the labelled pixels (0..1, summing to 1 when any pixel is labelled,
    /// all zero otherwise) and returns the count of labelled pixels.
    /// </summary>
    public static long Shares(ReadOnlySpan<byte> labels, Span<long> countsScratch, Span<double> shares)
    {
        var total = Count(labels, countsScratch);
        for (var c = 0; c < shares.Length; c++)
        {
            shares[c] = total == 0 ? 0 : (double)countsScratch[c] / total;
        }

        return total;
    }
}
