using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>
/// What is verified: with the Potts model and Gaussian kernels normalised symmetrically with their
/// self terms (as the reference does), W = w1·K̃α + w2·K̃γ is symmetric positive semidefinite, so the
/// parallel mean-field update minimises a convex upper bound of the free energy and the free energy
/// never increases (Krähenbühl &amp; Koltun 2013). This holds exactly for exact kernels; the fast
/// refiner approximates them, so for its beliefs we check the exact free energy drops at every
/// iteration up to a small stated slack, and that they follow the exact mean field's, iteration by
/// iteration, within stated bounds.
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
    public void Fast_refiner_follows_exact_mean_field_iteration_by_iteration()
    {
        var (image, logits, unary) = Scene();
        var crf = new ExactDenseCrf(Options, image, Width, Height);
        var n = Width * Height;
        var exact = ExactDenseCrf.InitialBeliefs(unary, Classes, n);
        var initial = crf.FreeEnergy(unary, exact, Classes);
        var previous = initial;
        var labels = new byte[n];
        var fast = new float[Classes * n];
        var rows = new List<(double Exact, double Fast, double MeanAbs, double Agreement)>();
        for (var t = 1; t <= 8; t++)
        {
            // The yardstick first: exact parallel mean field never raises the free energy.
            exact = crf.Update(unary, exact, Classes);
            var exactEnergy = crf.FreeEnergy(unary, exact, Classes);
            Assert.True(exactEnergy <= previous + (1e-9 * Math.Abs(previous)), $"exact iteration {t}: free energy rose from {previous} to {exactEnergy}");
            previous = exactEnergy;

            FastRefine(t, image, logits, labels, fast);
            double meanAbs = 0;
            var same = 0;
            for (var i = 0; i < n; i++)
            {
                var best = 0;
                for (var c = 0; c < Classes; c++)
                {
                    meanAbs += Math.Abs(fast[(c * n) + i] - exact[(c * n) + i]);
                    if (exact[(c * n) + i] > exact[(best * n) + i])
                    {
                        best = c;
                    }
                }

                same += labels[i] == best ? 1 : 0;
            }

            rows.Add((exactEnergy, crf.FreeEnergy(unary, Array.ConvertAll(fast, v => (double)v), Classes), meanAbs / (Classes * n), (double)same / n));
        }

        // Bounds for the lattice's approximation of the appearance kernel (measured: |ΔQ| at most
        // 0.004, labels at least 99.5% the same, free energies within 1% of the total drop).
        var drop = initial - previous;
        var table = FormattableString.Invariant($"F0 {initial:F3}; ") + string.Join("; ", rows.Select((r, i) => FormattableString.Invariant($"t={i + 1}: F exact {r.Exact:F3} fast {r.Fast:F3}, mean |ΔQ| {r.MeanAbs:F4}, labels {r.Agreement:P1}")));
        Assert.True(drop > 0, "exact mean field should lower the free energy of the noisy unary; " + table);
        foreach (var (row, t) in rows.Select((r, i) => (r, i + 1)))
        {
            Assert.True(row.MeanAbs <= 0.02, $"iteration {t}: beliefs off by {row.MeanAbs:F4} on average; {table}");
            Assert.True(row.Agreement >= 0.98, $"iteration {t}: {row.Agreement:P1} of the labels as exact mean field's; {table}");
            Assert.True(Math.Abs(row.Fast - row.Exact) <= 0.02 * drop, $"iteration {t}: free energy {row.Fast:F3} against exact {row.Exact:F3}; {table}");
        }
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
            FastRefine(t, image, logits, labels, q);
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

    /// <summary>The production refiner, <paramref name="iterations"/> iterations at full resolution (working scale 1), no pruning.</summary>
    private static void FastRefine(int iterations, byte[] image, float[] logits, byte[] labels, float[] beliefs)
    {
        using var refiner = new BilateralCrfRefiner(new CrfOptions
        {
            AppearanceSpatialSigma = Options.AppearanceSpatialSigma,
            Iterations = iterations,
            WorkingScale = 1,
            ClassPruningThreshold = 0f,
        });
        refiner.Refine(logits, Classes, 3, 4, image, Width, Height, labels, beliefs);
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
