using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>
/// The fully connected CRF computed by definition, O(N²) per filter, for small images: exact
/// Gaussian kernels with the reference's symmetric normalisation, parallel mean-field updates, and
/// the mean-field free energy. Test-only: it is the yardstick for the fast refiner.
/// </summary>
internal sealed class ExactDenseCrf
{
    private readonly double[,] _pairwise;

    public ExactDenseCrf(CrfOptions options, byte[] imageBgr, int width, int height)
    {
        Width = width;
        Height = height;
        var n = width * height;
        var appearance = Kernel(n, (i, j) =>
        {
            var dp = Distance2(i, j, width);
            var dc = Colour2(imageBgr, i, j);
            return Math.Exp((-dp / (2.0 * options.AppearanceSpatialSigma * options.AppearanceSpatialSigma)) - (dc / (2.0 * options.AppearanceColorSigma * options.AppearanceColorSigma)));
        });
        var smoothness = Kernel(n, (i, j) => Math.Exp(-Distance2(i, j, width) / (2.0 * options.SmoothnessSpatialSigma * options.SmoothnessSpatialSigma)));
        AppearanceKernel = appearance;
        SmoothnessKernel = smoothness;
        _pairwise = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                _pairwise[i, j] = (options.AppearanceWeight * appearance[i, j]) + (options.SmoothnessWeight * smoothness[i, j]);
            }
        }
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Symmetrically normalised appearance kernel D^−½ K D^−½ (self term included, as in the reference).</summary>
    public double[,] AppearanceKernel { get; }

    /// <summary>Symmetrically normalised smoothness kernel.</summary>
    public double[,] SmoothnessKernel { get; }

    /// <summary>Applies a normalised kernel to planar values (C × N).</summary>
    public static double[] Filter(double[,] kernel, float[] values, int classes, int n)
    {
        var output = new double[classes * n];
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < n; i++)
            {
                double sum = 0;
                for (var j = 0; j < n; j++)
                {
                    sum += kernel[i, j] * values[(c * n) + j];
                }

                output[(c * n) + i] = sum;
            }
        }

        return output;
    }

    /// <summary>Q0 = softmax(−U), planar C × N.</summary>
    public static double[] InitialBeliefs(float[] unary, int classes, int n)
    {
        var q = new double[classes * n];
        for (var i = 0; i < n; i++)
        {
            Softmax(c => -unary[(c * n) + i], classes, (c, v) => q[(c * n) + i] = v);
        }

        return q;
    }

    /// <summary>One parallel mean-field update: Q ← softmax(−U + W·Q), W = w1·K̃α + w2·K̃γ.</summary>
    public double[] Update(float[] unary, double[] q, int classes)
    {
        var n = Width * Height;
        var next = new double[classes * n];
        var message = new double[classes];
        for (var i = 0; i < n; i++)
        {
            for (var c = 0; c < classes; c++)
            {
                double sum = 0;
                for (var j = 0; j < n; j++)
                {
                    sum += _pairwise[i, j] * q[(c * n) + j];
                }

                message[c] = sum;
            }

            Softmax(c => -unary[(c * n) + i] + message[c], classes, (c, v) => next[(c * n) + i] = v);
        }

        return next;
    }

    /// <summary>
    /// Mean-field free energy F(Q) = Σ_i Σ_l Q·U + Σ Q·log Q − ½ Σ_l Q_lᵀ W Q_l (up to a constant that
    /// does not depend on Q). W is symmetric positive semidefinite (normalised Gaussian kernels,
    /// self terms included), so the parallel update is a concave–convex step and F never increases
    /// (Krähenbühl &amp; Koltun 2013).
    /// </summary>
    public double FreeEnergy(float[] unary, double[] q, int classes)
    {
        var n = Width * Height;
        double energy = 0;
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < n; i++)
            {
                var qi = q[(c * n) + i];
                energy += qi * unary[(c * n) + i];
                if (qi > 0)
                {
                    energy += qi * Math.Log(qi);
                }

                double wq = 0;
                for (var j = 0; j < n; j++)
                {
                    wq += _pairwise[i, j] * q[(c * n) + j];
                }

                energy -= 0.5 * qi * wq;
            }
        }

        return energy;
    }

    private static void Softmax(Func<int, double> score, int classes, Action<int, double> write)
    {
        var max = double.NegativeInfinity;
        for (var c = 0; c < classes; c++)
        {
            max = Math.Max(max, score(c));
        }

        double sum = 0;
        for (var c = 0; c < classes; c++)
        {
            sum += Math.Exp(score(c) - max);
        }

        for (var c = 0; c < classes; c++)
        {
            write(c, Math.Exp(score(c) - max) / sum);
        }
    }

    private static double[,] Kernel(int n, Func<int, int, double> k)
    {
        var raw = new double[n, n];
        var degree = new double[n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                raw[i, j] = k(i, j);
                degree[i] += raw[i, j];
            }
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                raw[i, j] /= Math.Sqrt(degree[i] * degree[j]);
            }
        }

        return raw;
    }

    private static double Distance2(int i, int j, int width)
    {
        double dx = (i % width) - (j % width);
        double dy = (i / width) - (j / width);
        return (dx * dx) + (dy * dy);
    }

    private static double Colour2(byte[] bgr, int i, int j)
    {
        double sum = 0;
        for (var c = 0; c < 3; c++)
        {
            double d = bgr[(i * 3) + c] - bgr[(j * 3) + c];
            sum += d * d;
        }

        return sum;
    }
}
