using System.Runtime.Intrinsics;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>
/// Per-pixel argmax over class planes of an NCHW score map (batch 1). Eight or sixteen pixels at a time:
/// a compare, a max and a blend per class, so the cost is one pass over the logits.
/// </summary>
public static class ArgMax
{
    /// <summary>
    /// Writes the index of the largest score of each pixel; ties go to the lower class id, as numpy and
    /// torch do. <paramref name="scores"/> holds <paramref name="classes"/> planes of labels.Length values.
    /// </summary>
    public static void Compute(ReadOnlySpan<float> scores, int classes, Span<byte> labels)
    {
        var n = labels.Length;
        if (classes is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "1..255 classes");
        }

        if (scores.Length < (long)classes * n)
        {
            throw new ArgumentException($"{scores.Length} scores for {classes} planes of {n} pixels", nameof(scores));
        }

        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            i = Compute512(scores, classes, labels, n);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            i = Compute256(scores, classes, labels, n);
        }

        for (; i < n; i++)
        {
            var best = scores[i];
            var bestClass = 0;
            for (var c = 1; c < classes; c++)
            {
                var v = scores[(c * n) + i];
                if (v > best)
                {
                    best = v;
                    bestClass = c;
                }
            }

            labels[i] = (byte)bestClass;
        }
    }

    private static int Compute512(ReadOnlySpan<float> scores, int classes, Span<byte> labels, int n)
    {
        var i = 0;
        for (; i + Vector512<float>.Count <= n; i += Vector512<float>.Count)
        {
            var best = Vector512.Create(scores.Slice(i, Vector512<float>.Count));
            var bestClass = Vector512<int>.Zero;
            for (var c = 1; c < classes; c++)
            {
                var v = Vector512.Create(scores.Slice((c * n) + i, Vector512<float>.Count));
                var greater = Vector512.GreaterThan(v, best).AsInt32();
                best = Vector512.Max(best, v);
                bestClass = Vector512.ConditionalSelect(greater, Vector512.Create(c), bestClass);
            }

            // Two narrowing steps: int32 → int16 → byte, keeping the low 16 bytes.
            var shorts = Vector512.Narrow(bestClass, bestClass);
            var bytes = Vector512.Narrow(shorts, shorts);
            bytes.AsByte().GetLower().GetLower().CopyTo(labels.Slice(i, 16));
        }

        return i;
    }

    private static int Compute256(ReadOnlySpan<float> scores, int classes, Span<byte> labels, int n)
    {
        var i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
        {
            var best = Vector256.Create(scores.Slice(i, Vector256<float>.Count));
            var bestClass = Vector256<int>.Zero;
            for (var c = 1; c < classes; c++)
            {
                var v = Vector256.Create(scores.Slice((c * n) + i, Vector256<float>.Count));
                var greater = Vector256.GreaterThan(v, best).AsInt32();
                best = Vector256.Max(best, v);
                bestClass = Vector256.ConditionalSelect(greater, Vector256.Create(c), bestClass);
            }

            for (var k = 0; k < Vector256<int>.Count; k++)
            {
                labels[i + k] = (byte)bestClass.GetElement(k);
            }
        }

        return i;
    }
}
