using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// The smoothness kernel exp(−|pi−pj|²/2θγ²) on a grid of step <c>s</c> pixels, symmetrically
/// normalised like the reference (out = n ⊙ K(n ⊙ in), n = (K·1)^−½), applied to channel-last
/// values (<c>stride</c> floats per point). The Gaussian is separable and so is its normaliser, so
/// the filter is a horizontal pass and a vertical pass with per-position tap weights that already
/// contain n; truncated at 3σ, where the tail holds 0.3% of the mass.
/// </summary>
internal sealed unsafe class SeparableGaussian
{
    private float[] _tapsX = [];
    private float[] _tapsY = [];
    private float[] _factorX = [];
    private float[] _factorY = [];

    public int Radius { get; private set; }

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <param name="width">Grid columns.</param>
    /// <param name="height">Grid rows.</param>
    /// <param name="sigma">Standard deviation in grid steps (θγ / s).</param>
    /// <param name="weight">Kernel weight folded into the output factor (w2).</param>
    public void Configure(int width, int height, float sigma, float weight)
    {
        var radius = Math.Max(1, (int)MathF.Ceiling(3f * sigma));
        Radius = radius;
        Width = width;
        Height = height;
        _tapsX = BuildTaps(width, radius, sigma, weight, out _factorX);
        _tapsY = BuildTaps(height, radius, sigma, 1f, out _factorY);
    }

    /// <summary>
    /// Per position: 2r+1 taps g(t)·n(pos+t) (0 outside the grid), and the output factor weight·n(pos),
    /// with n(pos) = (Σ_t g(t) over taps inside the grid)^−½ for this axis.
    /// </summary>
    private static float[] BuildTaps(int size, int radius, float sigma, float weight, out float[] factor)
    {
        var span = (2 * radius) + 1;
        var g = new float[span];
        for (var t = -radius; t <= radius; t++)
        {
            g[t + radius] = MathF.Exp(-(t * t) / (2f * sigma * sigma));
        }

        var norm = new float[size];
        for (var i = 0; i < size; i++)
        {
            var sum = 0f;
            for (var t = -radius; t <= radius; t++)
            {
                if (i + t >= 0 && i + t < size)
                {
                    sum += g[t + radius];
                }
            }

            norm[i] = 1f / MathF.Sqrt(sum);
        }

        var taps = new float[size * span];
        factor = new float[size];
        for (var i = 0; i < size; i++)
        {
            factor[i] = weight * norm[i];
            for (var t = -radius; t <= radius; t++)
            {
                taps[(i * span) + t + radius] = i + t >= 0 && i + t < size ? g[t + radius] * norm[i + t] : 0f;
            }
        }

        return taps;
    }

    /// <summary>Horizontal pass over rows [rowStart, rowEnd): tmp(x) = Σ_t tapX(x,t)·in(x+t).</summary>
    public void Horizontal(float* input, float* tmp, int stride, int rowStart, int rowEnd)
    {
        var width = Width;
        var radius = Radius;
        var span = (2 * radius) + 1;
        var vw = Vector<float>.Count;
        fixed (float* taps = _tapsX)
        {
            for (var y = rowStart; y < rowEnd; y++)
            {
                var row = input + ((long)y * width * stride);
                var outRow = tmp + ((long)y * width * stride);
                for (var x = 0; x < width; x++)
                {
                    var t0 = Math.Max(-radius, -x);
                    var t1 = Math.Min(radius, width - 1 - x);
                    var tx = taps + (x * span) + radius;
                    var o = outRow + ((long)x * stride);
                    for (var k = 0; k < stride; k += vw)
                    {
                        var acc = Vector<float>.Zero;
                        for (var t = t0; t <= t1; t++)
                        {
                            acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(row + ((long)(x + t) * stride) + k), new Vector<float>(tx[t]), acc);
                        }

                        Unsafe.WriteUnaligned(o + k, acc);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Vertical pass for one grid row: out(x) = factorX(x)·factorY(y)·Σ_t tapY(y,t)·tmp(x, y+t) for
    /// every x of row <paramref name="y"/>.
    /// </summary>
    public void VerticalRow(float* tmp, float* output, int stride, int y)
    {
        var width = Width;
        var height = Height;
        var radius = Radius;
        var span = (2 * radius) + 1;
        var vw = Vector<float>.Count;
        var rowFloats = (long)width * stride;
        var t0 = Math.Max(-radius, -y);
        var t1 = Math.Min(radius, height - 1 - y);
        fixed (float* tapsY = _tapsY)
        fixed (float* fx = _factorX)
        {
            var ty = tapsY + (y * span) + radius;
            var fy = _factorY[y];
            for (var x = 0; x < width; x++)
            {
                var column = tmp + ((long)x * stride);
                var o = output + ((long)x * stride);
                var f = new Vector<float>(fx[x] * fy);
                for (var k = 0; k < stride; k += vw)
                {
                    var acc = Vector<float>.Zero;
                    for (var t = t0; t <= t1; t++)
                    {
                        acc = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(column + ((y + t) * rowFloats) + k), new Vector<float>(ty[t]), acc);
                    }

                    Unsafe.WriteUnaligned(o + k, acc * f);
                }
            }
        }
    }
}
