using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

public sealed class BilateralCrfRefinerTests
{
    private const int Width = 32;
    private const int Height = 24;

    [Theory]
    [InlineData(80f, 13f, 0.10)]
    [InlineData(8f, 13f, 0.10)]
    [InlineData(4f, 30f, 0.10)]
    public void Appearance_message_of_the_lattice_stays_close_to_the_exact_Gaussian_sums(float spatialSigma, float colorSigma, double tolerance)
    {
        // w2 = 0 and one iteration: Q1 = softmax(−U + w1·K̃Q0), so log Q1 + U recovers w1·K̃Q0 up to a
        // per-pixel constant; compare it, centred over the classes, with the exact O(N²) sums.
        var options = new CrfOptions
        {
            AppearanceWeight = 10f,
            AppearanceSpatialSigma = spatialSigma,
            AppearanceColorSigma = colorSigma,
            SmoothnessWeight = 0f,
            Iterations = 1,
            WorkingScale = 1,
            ClassPruningThreshold = 0f,
        };
        var (fast, exact) = Messages(options, (crf) => crf.AppearanceKernel);
        var error = RelativeError(fast, exact);
        Assert.True(error <= tolerance, $"relative RMS error of the appearance message {error:F4} > {tolerance}");
    }

    [Fact]
    public void Smoothness_message_matches_the_exact_Gaussian_sums()
    {
        var options = new CrfOptions
        {
            AppearanceWeight = 0f,
            SmoothnessWeight = 3f,
            SmoothnessSpatialSigma = 3f,
            Iterations = 1,
            WorkingScale = 1,
            ClassPruningThreshold = 0f,
        };
        var (fast, exact) = Messages(options, (crf) => crf.SmoothnessKernel);

        // The separable filter is exact up to its 3σ truncation.
        var error = RelativeError(fast, exact);
        Assert.True(error <= 0.01, $"relative RMS error of the smoothness message {error:F4} > 0.01");
    }

    /// <summary>The message the refiner applied (from its output Q) and the exact one, both centred per pixel.</summary>
    private static (double[] Fast, double[] Exact) Messages(CrfOptions options, Func<ExactDenseCrf, double[,]> kernel)
    {
        const int classes = 5;
        var image = CrfTestScenes.Regions(Width, Height, seed: 3);
        var logits = CrfTestScenes.Logits(classes, 6, 8, seed: 4);
        var n = Width * Height;
        var unary = new float[classes * n];
        CrfUnary.Compute(logits, classes, 6, 8, Width, Height, unary);

        var labels = new byte[n];
        var q = new float[classes * n];
        using (var refiner = new BilateralCrfRefiner(options, parallelism: 2))
        {
            refiner.Refine(logits, classes, 6, 8, image, Width, Height, labels, q);
        }

        var crf = new ExactDenseCrf(options, image, Width, Height);
        var q0 = ExactDenseCrf.InitialBeliefs(unary, classes, n);
        var exactMessage = ExactDenseCrf.Filter(kernel(crf), Array.ConvertAll(q0, v => (float)v), classes, n);
        var weight = options.AppearanceWeight > 0 ? options.AppearanceWeight : options.SmoothnessWeight;
        var fast = new double[classes * n];
        var exact = new double[classes * n];
        for (var i = 0; i < n; i++)
        {
            double meanFast = 0, meanExact = 0;
            for (var c = 0; c < classes; c++)
            {
                meanFast += Math.Log(q[(c * n) + i]) + unary[(c * n) + i];
                meanExact += weight * exactMessage[(c * n) + i];
            }

            for (var c = 0; c < classes; c++)
            {
                fast[(c * n) + i] = Math.Log(q[(c * n) + i]) + unary[(c * n) + i] - (meanFast / classes);
                exact[(c * n) + i] = (weight * exactMessage[(c * n) + i]) - (meanExact / classes);
            }
        }

        return (fast, exact);
    }

    private static double RelativeError(double[] fast, double[] exact)
    {
        double error = 0, norm = 0;
        for (var i = 0; i < fast.Length; i++)
        {
            error += (fast[i] - exact[i]) * (fast[i] - exact[i]);
            norm += exact[i] * exact[i];
        }

        return Math.Sqrt(error / norm);
    }
}
