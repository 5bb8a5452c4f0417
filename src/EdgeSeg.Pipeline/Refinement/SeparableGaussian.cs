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
    /// Per position: 2r+1 taps g(t)·n(pos+t) (0 outside the grid) between two zero guards, and the output factor weight·n(pos),
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

        // One zero guard on either side of each position's taps (see Horizontal).
        var guarded = span + 2;
        var taps = new float[size * guarded];
        factor = new float[size];
        for (var i = 0; i < size; i++)
        {
            factor[i] = weight * norm[i];
            for (var t = -radius; t <= radius; t++)
            {
                taps[(i * guarded) + t + radius + 1] = i + t >= 0 && i + t < size ? g[t + radius] * norm[i + t] : 0f;
            }
        }

        return taps;
    }

    /// <summary>Horizontal pass over rows [rowStart, rowEnd): tmp(x) = Σ_t tapX(x,t)·in(x+t).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Horizontal(float* input, float* tmp, int stride, int rowStart, int rowEnd)
    {
        var width = Width;
        var radius = Radius;
        var span = (2 * radius) + 3;
        fixed (float* taps = _tapsX)
        {
            for (var y = rowStart; y < rowEnd; y++)
            {
                var row = input + ((long)y * width * stride);
                var outRow = tmp + ((long)y * width * stride);
                for (var x = 0; x < width; x += 2)
                {
                    // Outputs x and x+1 together: they share inputs x−r … x+1+r. Tap tables carry a
                    // zero on either side, so each output can read one tap beyond its reach.
                    var x1 = Math.Min(x + 1, width - 1);
                    var u0 = Math.Max(0, x - radius);
                    var u1 = Math.Min(width - 1, x1 + radius);
                    var wa = taps + (x * span) + radius + 1 - x;
                    var wb = taps + (x1 * span) + radius + 1 - x1;
                    ChannelKernels.DualDot(row, stride, u0, u1, wa, wb, outRow + ((long)x * stride), outRow + ((long)x1 * stride), stride, 1f, 1f);
                }
            }
        }
    }

    /// <summary>
    /// Vertical pass for grid rows y and y+1 (or y alone at the last row):
    /// out(x, y) = factorX(x)·factorY(y)·Σ_t tapY(y,t)·tmp(x, y+t).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void VerticalRows(float* tmp, float* output0, float* output1, int stride, int y)
    {
        var width = Width;
        var radius = Radius;
        var span = (2 * radius) + 3;
        var rowFloats = (long)width * stride;
        var y1 = Math.Min(y + 1, Height - 1);
        var u0 = Math.Max(0, y - radius);
        var u1 = Math.Min(Height - 1, y1 + radius);
        fixed (float* tapsY = _tapsY)
        fixed (float* fx = _factorX)
        {
            var wa = tapsY + (y * span) + radius + 1 - y;
            var wb = tapsY + (y1 * span) + radius + 1 - y1;
            var fy0 = _factorY[y];
            var fy1 = _factorY[y1];
            for (var x = 0; x < width; x++)
            {
                ChannelKernels.DualDot(
                    tmp + ((long)x * stride), rowFloats, u0, u1, wa, wb,
                    output0 + ((long)x * stride), output1 + ((long)x * stride), stride, fx[x] * fy0, fx[x] * fy1);
            }
        }
    }
}
