using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

public sealed class CrfEdgeCaseTests
{
    private const int Width = 40;
    private const int Height = 30;

    [Fact]
    public void Uniform_image_with_uniform_scores_keeps_the_winning_class_everywhere()
    {
        const int classes = 6;
        var image = new byte[Width * Height * 3];
        Array.Fill(image, (byte)128);
        var logits = new float[classes * 4 * 5];
        for (var i = 0; i < 20; i++)
        {
            for (var c = 0; c < classes; c++)
            {
                logits[(c * 20) + i] = c == 4 ? 2f : c * 0.1f;
            }
        }

        var labels = new byte[Width * Height];
        var q = new float[classes * Width * Height];
        using var refiner = new BilateralCrfRefiner(new CrfOptions());
        refiner.Refine(logits, classes, 4, 5, image, Width, Height, labels, q);

        Assert.All(labels, l => Assert.Equal(4, l));
        AssertProbabilitiesSumToOne(q, classes);
    }

    [Fact]
    public void Single_class_labels_every_pixel_with_it_at_probability_one()
    {
        var image = CrfTestScenes.Regions(Width, Height, seed: 1);
        var logits = CrfTestScenes.Logits(1, 3, 4, seed: 2);
        var labels = new byte[Width * Height];
        Array.Fill(labels, (byte)9);
        var q = new float[Width * Height];
        using var refiner = new BilateralCrfRefiner(new CrfOptions());
        refiner.Refine(logits, 1, 3, 4, image, Width, Height, labels, q);

        Assert.All(labels, l => Assert.Equal(0, l));
        Assert.All(q, p => Assert.Equal(1f, p, 5));
    }

    [Fact]
    public void Classes_absent_from_the_frame_are_pruned_without_changing_the_labels()
    {
        const int classes = 19;
        var image = CrfTestScenes.Regions(Width, Height, seed: 5);
        var logits = CrfTestScenes.Logits(classes, 4, 5, seed: 6);
        for (var c = 3; c < classes; c++)
        {
            // Far below the three live classes everywhere: probability below 1e-10.
            logits.AsSpan(c * 20, 20).Fill(-30f);
        }

        var pruned = new byte[Width * Height];
        var kept = new byte[Width * Height];
        var q = new float[classes * Width * Height];
        using (var refiner = new BilateralCrfRefiner(new CrfOptions { ClassPruningThreshold = 1e-4f }))
        {
            refiner.Refine(logits, classes, 4, 5, image, Width, Height, pruned, q);
            Assert.Equal(3, refiner.Engine.ActiveClasses);
        }

        using (var refiner = new BilateralCrfRefiner(new CrfOptions { ClassPruningThreshold = 0f }))
        {
            refiner.Refine(logits, classes, 4, 5, image, Width, Height, kept);
            Assert.Equal(classes, refiner.Engine.ActiveClasses);
        }

        Assert.All(pruned, l => Assert.True(l < 3, $"label {l} of an absent class"));
        Assert.Equal(kept, pruned);
        Assert.All(q.AsSpan(3 * Width * Height).ToArray(), p => Assert.Equal(0f, p));
        AssertProbabilitiesSumToOne(q, classes);
    }

    [Fact]
    public void Score_map_of_the_frame_size_is_used_without_resampling()
    {
        const int classes = 3;
        var logits = CrfTestScenes.Logits(classes, Height, Width, seed: 8);
        var unary = new float[classes * Width * Height];
        CrfUnary.Compute(logits, classes, Height, Width, Width, Height, unary);
        var n = Width * Height;
        for (var i = 0; i < n; i++)
        {
            var max = Math.Max(logits[i], Math.Max(logits[n + i], logits[(2 * n) + i]));
            var logSum = max + Math.Log(Math.Exp(logits[i] - max) + Math.Exp(logits[n + i] - max) + Math.Exp(logits[(2 * n) + i] - max));
            for (var c = 0; c < classes; c++)
            {
                Assert.True(Math.Abs(logSum - logits[(c * n) + i] - unary[(c * n) + i]) < 1e-4, $"pixel {i}, class {c}");
            }
        }
    }

    [Fact]
    public void Unary_is_clipped_at_minus_log_1e_minus_8()
    {
        float[] logits = [0f, -40f];
        var unary = new float[2];
        CrfUnary.Compute(logits, 2, 1, 1, 1, 1, unary);
        Assert.Equal(0f, unary[0], 5);
        Assert.Equal(CrfUnary.MaxEnergy, unary[1]);
    }

    [Fact]
    public void Results_do_not_depend_on_the_number_of_threads()
    {
        const int classes = 7;
        var image = CrfTestScenes.Regions(Width, Height, seed: 21);
        var logits = CrfTestScenes.Logits(classes, 4, 5, seed: 22);
        var labels1 = new byte[Width * Height];
        var labels3 = new byte[Width * Height];
        var q1 = new float[classes * Width * Height];
        var q3 = new float[classes * Width * Height];
        using (var one = new BilateralCrfRefiner(new CrfOptions(), parallelism: 1))
        {
            one.Refine(logits, classes, 4, 5, image, Width, Height, labels1, q1);
        }

        using (var three = new BilateralCrfRefiner(new CrfOptions(), parallelism: 3))
        {
            three.Refine(logits, classes, 4, 5, image, Width, Height, labels3, q3);
        }

        Assert.Equal(labels1, labels3);
        Assert.Equal(q1, q3);
    }

    [Fact]
    public void A_frame_that_outgrows_the_lattice_table_gives_the_same_results_on_any_thread_count()
    {
        // Pure noise and small sigmas: nearly every pixel has its own simplex, so the first frame
        // creates more vertices than the concurrent insertion has room for and is redone serially.
        const int classes = 5;
        const int size = 96;
        var image = CrfTestScenes.Regions(size, size, seed: 31, noise: 120);
        var logits = CrfTestScenes.Logits(classes, 12, 12, seed: 32);
        var options = new CrfOptions { AppearanceSpatialSigma = 3f, AppearanceColorSigma = 3f };
        using var one = new BilateralCrfRefiner(options, parallelism: 1);
        using var two = new BilateralCrfRefiner(options, parallelism: 2);
        for (var frame = 0; frame < 2; frame++)
        {
            var labels1 = new byte[size * size];
            var labels2 = new byte[size * size];
            var q1 = new float[classes * size * size];
            var q2 = new float[classes * size * size];
            one.Refine(logits, classes, 12, 12, image, size, size, labels1, q1);
            two.Refine(logits, classes, 12, 12, image, size, size, labels2, q2);
            Assert.True(two.Engine.LatticeVertices > 16384, $"only {two.Engine.LatticeVertices} vertices");
            Assert.Equal(one.Engine.LatticeVertices, two.Engine.LatticeVertices);
            Assert.Equal(labels1, labels2);
            Assert.Equal(q1, q2);
        }
    }

    [Fact]
    public void Invalid_options_are_all_listed_by_property_name()
    {
        var options = new CrfOptions
        {
            AppearanceWeight = -1f,
            AppearanceSpatialSigma = 0f,
            AppearanceColorSigma = float.NaN,
            SmoothnessWeight = float.PositiveInfinity,
            SmoothnessSpatialSigma = -3f,
            Iterations = 0,
            WorkingScale = 9,
            ClassPruningThreshold = 0.5f,
            CopyMargin = -1f,
            CopyColorTolerance = 256,
        };

        var errors = options.Validate();

        Assert.Equal(10, errors.Count);
        Assert.Contains("Iterations: must be 1..50, got 0", errors);
        foreach (var name in new[] { "AppearanceWeight:", "AppearanceSpatialSigma:", "AppearanceColorSigma:", "SmoothnessWeight:", "SmoothnessSpatialSigma:", "WorkingScale:", "ClassPruningThreshold:", "CopyMargin:", "CopyColorTolerance:" })
        {
            Assert.Contains(errors, e => e.StartsWith(name, StringComparison.Ordinal));
        }

        Assert.Empty(new CrfOptions().Validate());
    }

    [Fact]
    public void Refiner_rejects_invalid_options_naming_the_parameter_and_the_property()
    {
        var error = Assert.Throws<ArgumentException>(() => new BilateralCrfRefiner(new CrfOptions { Iterations = 0 }));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("Iterations: must be 1..50, got 0", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BilateralCrfRefiner(new CrfOptions(), parallelism: -1));
    }

    [Fact]
    public void Refine_rejects_buffers_that_do_not_match_the_sizes()
    {
        using var refiner = new BilateralCrfRefiner(new CrfOptions());
        var logits = new float[3 * 4 * 5];
        var image = new byte[Width * Height * 3];
        var labels = new byte[Width * Height];
        Assert.Equal("imageBgr", Assert.Throws<ArgumentException>(() => refiner.Refine(logits, 3, 4, 5, image.AsSpan(1), Width, Height, labels)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => refiner.Refine(logits, 3, 4, 5, image, Width, Height, labels.AsSpan(1))).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => refiner.Refine(logits.AsSpan(1), 3, 4, 5, image, Width, Height, labels)).ParamName);
        Assert.Equal("scoreWidth", Assert.Throws<ArgumentOutOfRangeException>(() => refiner.Refine(new float[3 * 4 * 50], 3, 4, 50, image, Width, Height, labels)).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => refiner.Refine(logits, 3, 4, 5, image, Width, Height, labels, new float[7])).ParamName);
        Assert.Equal("classes", Assert.Throws<ArgumentOutOfRangeException>(() => refiner.Refine(logits, 0, 4, 5, image, Width, Height, labels)).ParamName);
    }

    private static void AssertProbabilitiesSumToOne(float[] q, int classes)
    {
        var n = q.Length / classes;
        for (var i = 0; i < n; i++)
        {
            var sum = 0f;
            for (var c = 0; c < classes; c++)
            {
                sum += q[(c * n) + i];
            }

            Assert.Equal(1f, sum, 4);
        }
    }
}
