using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>
/// What is verified: with the Potts model and Gaussian kernels normalised symmetrically with their
/// self terms (as the reference does), W = w1·K̃α + w2·K̃γ is symmetric positive semidefinite, so the
/// parallel mean-field update minimises a convex upper bound of the free energy and the free energy
/// never increases (Krähenbühl &amp; Koltun 2013). This holds exactly for exact kernels; the fast
/// refiner approximates them, so for its beliefs we check the exact free energy drops at every
/// iteration up to a small stated slack.
/// </summary>
public sealed class MeanFieldEnergyTests
{
    private const int Width = 16;
    private const int Height = 12;
    private const int Classes = 4;

    private static readonly CrfOptions Options = new()
    {
        AppearanceSpatialSigma = 10f,
        Iterations = 1,
        WorkingScale = 1,
        ClassPruningThreshold = 0f,
    };

    [Fact]
    public void Exact_mean_field_never_increases_the_free_energy()
    {
        var (image, logits, unary) = Scene();
        var crf = new ExactDenseCrf(Options, image, Width, Height);
        var q = ExactDenseCrf.InitialBeliefs(unary, Classes, Width * Height);
        var previous = crf.FreeEnergy(unary, q, Classes);
        var first = previous;
        for (var t = 1; t <= 10; t++)
        {
            q = crf.Update(unary, q, Classes);
            var energy = crf.FreeEnergy(unary, q, Classes);
            Assert.True(energy <= previous + (1e-9 * Math.Abs(previous)), $"iteration {t}: free energy rose from {previous} to {energy}");
            previous = energy;
        }

        Assert.True(previous < first, "mean field should lower the free energy of the noisy unary");
        _ = logits;
    }

    [Fact]
    public void Fast_refiner_lowers_the_exact_free_energy_at_every_iteration()
    {
        var (image, logits, unary) = Scene();
        var crf = new ExactDenseCrf(Options, image, Width, Height);
        var n = Width * Height;
        var energies = new List<double> { crf.FreeEnergy(unary, ExactDenseCrf.InitialBeliefs(unary, Classes, n), Classes) };
        var labels = new byte[n];
        var q = new float[Classes * n];
        for (var t = 1; t <= 8; t++)
        {
            using var refiner = new BilateralCrfRefiner(new CrfOptions
            {
                AppearanceSpatialSigma = Options.AppearanceSpatialSigma,
                Iterations = t,
                WorkingScale = 1,
                ClassPruningThreshold = 0f,
            });
            refiner.Refine(logits, Classes, 3, 4, image, Width, Height, labels, q);
            energies.Add(crf.FreeEnergy(unary, Array.ConvertAll(q, v => (double)v), Classes));
        }

        // Slack: 1e-4 of the total drop, for float rounding and the lattice approximation of the kernel.
        var slack = 1e-4 * (energies[0] - energies[^1]);
        Assert.True(slack > 0, $"free energy did not drop overall: {string.Join(", ", energies)}");
        for (var t = 1; t < energies.Count; t++)
        {
            Assert.True(energies[t] <= energies[t - 1] + slack, $"iteration {t}: {energies[t - 1]} -> {energies[t]} (all: {string.Join(", ", energies)})");
        }
    }

    private static (byte[] Image, float[] Logits, float[] Unary) Scene()
    {
        var image = CrfTestScenes.Regions(Width, Height, seed: 11, noise: 10);
        var logits = CrfTestScenes.Logits(Classes, 3, 4, seed: 12, amplitude: 2f);
        var unary = new float[Classes * Width * Height];
        CrfUnary.Compute(logits, Classes, 3, 4, Width, Height, unary);
        return (image, logits, unary);
    }
}
