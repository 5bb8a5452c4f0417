using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>
/// The permutohedral lattice location of each pixel written one coordinate at a time, as Adams et al.
/// (2010) state the algorithm: the oracle that <see cref="PermutohedralLattice.LocateRows"/>, which does
/// the same for a vector of pixels at once, is checked against. Test-only.
/// </summary>
internal static class ScalarLatticeLocation
{
    private const int Dims = PermutohedralLattice.Dims;
    private const int Corners = PermutohedralLattice.Corners;

    /// <summary>Per pixel: the packed key of its simplex's remainder-0 vertex, the packed ranks and the <see cref="Corners"/> barycentric weights.</summary>
    public static (long[] Keys, int[] Ranks, float[] Weights) Locate(ReadOnlySpan<byte> bgr, ReadOnlySpan<float> scales, int width, int height)
    {
        var keys = new long[width * height];
        var ranks = new int[width * height];
        var weights = new float[width * height * Corners];
        Span<float> elevated = stackalloc float[Corners];
        Span<int> rem0 = stackalloc int[Corners];
        Span<int> rank = stackalloc int[Corners];
        Span<float> bary = stackalloc float[Corners + 1];
        const float inv = 1f / Corners;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var p = (y * width) + x;

                // Features (x, y, R, G, B) as in the reference; the frame is BGR.
                var f0 = x * scales[0];
                var f1 = y * scales[1];
                var f2 = bgr[(p * 3) + 2] * scales[2];
                var f3 = bgr[(p * 3) + 1] * scales[3];
                var f4 = bgr[p * 3] * scales[4];

                // Elevate onto the hyperplane Σ = 0 in 6-D.
                elevated[5] = -5f * f4;
                var sm = f4;
                elevated[4] = sm - (4f * f3);
                sm += f3;
                elevated[3] = sm - (3f * f2);
                sm += f2;
                elevated[2] = sm - (2f * f1);
                sm += f1;
                elevated[1] = sm - f0;
                elevated[0] = sm + f0;

                // Nearest remainder-0 point (every coordinate a multiple of 6); its coordinate sum, in units of 6.
                var sum = 0;
                for (var i = 0; i < Corners; i++)
                {
                    rem0[i] = (int)MathF.Round(elevated[i] * inv) * Corners;
                    sum += rem0[i];
                    rank[i] = 0;
                }

                sum /= Corners;

                // Rank of each coordinate's residual: 0 for the largest (ties to the later coordinate).
                for (var i = 0; i < Dims; i++)
                {
                    var di = elevated[i] - rem0[i];
                    for (var j = i + 1; j < Corners; j++)
                    {
                        if (di < elevated[j] - rem0[j])
                        {
                            rank[i]++;
                        }
                        else
                        {
                            rank[j]++;
                        }
                    }
                }

                // A point off the hyperplane: move the `sum` coordinates with the smallest residuals
                // down by 6 (sum > 0), or the −sum with the largest up by 6 (sum < 0), and re-rank.
                for (var i = 0; i < Corners; i++)
                {
                    if (sum > 0 && rank[i] >= Corners - sum)
                    {
                        rem0[i] -= Corners;
                        rank[i] += sum - Corners;
                    }
                    else if (sum < 0 && rank[i] < -sum)
                    {
                        rem0[i] += Corners;
                        rank[i] += Corners + sum;
                    }
                    else
                    {
                        rank[i] += sum;
                    }
                }

                bary.Clear();
                for (var i = 0; i < Corners; i++)
                {
                    var v = (elevated[i] - rem0[i]) * inv;
                    bary[Dims - rank[i]] += v;
                    bary[Corners - rank[i]] -= v;
                }

                bary[0] += 1f + bary[Corners];

                long key = 0;
                var code = 0;
                for (var i = 0; i < Dims; i++)
                {
                    key |= (long)(rem0[i] + PermutohedralLattice.FieldBias) << (PermutohedralLattice.FieldBits * i);
                    code |= rank[i] << (3 * i);
                }

                keys[p] = key;
                ranks[p] = code;
                bary[..Corners].CopyTo(weights.AsSpan(p * Corners, Corners));
            }
        }

        return (keys, ranks, weights);
    }
}
