using System.Diagnostics;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>
/// <see cref="BilateralCrfRefiner.TryRefine"/> against a deadline. No wall-clock timing: the
/// expiry in the middle of a frame is driven by a counting clock.
/// </summary>
public sealed class CrfDeadlineTests
{
    private const int Classes = 19;
    private const int Width = 96;
    private const int Height = 64;
    private const byte Untouched = 255;

    private static readonly byte[] Image = CrfTestScenes.Regions(Width, Height, seed: 21);
    private static readonly float[] Logits = CrfTestScenes.Logits(Classes, 8, 12, seed: 22);

    [Fact]
    public void A_deadline_already_past_returns_false_without_writing_labels_and_the_next_frame_is_unaffected()
    {
        using var refiner = new BilateralCrfRefiner(new CrfOptions { Iterations = 5 });
        var labels = Filled(Untouched);
        Assert.False(Refine(refiner, labels, Stopwatch.GetTimestamp() - 1));
        Assert.All(labels, l => Assert.Equal(Untouched, l));

        var afterSkip = new byte[Width * Height];
        refiner.Refine(Logits, Classes, 8, 12, Image, Width, Height, afterSkip);
        Assert.Equal(Fresh(new CrfOptions { Iterations = 5 }), afterSkip);
    }

    [Fact]
    public void A_generous_deadline_returns_true_with_the_labels_of_Refine()
    {
        var options = new CrfOptions { Iterations = 5 };
        using var refiner = new BilateralCrfRefiner(options);
        var expected = Fresh(options);
        foreach (var deadline in new[] { Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency), long.MaxValue })
        {
            var labels = Filled(Untouched);
            Assert.True(Refine(refiner, labels, deadline));
            Assert.Equal(expected, labels);
        }
    }

    [Fact]
    public void A_deadline_passing_between_iterations_stops_the_frame_there()
    {
        var options = new CrfOptions { Iterations = 10 };
        using var refiner = new BilateralCrfRefiner(options);
        var reads = 0L;

        // Each read advances the fake clock by one: with deadline 3, reads 1–3 let the frame start and
        // run two iterations, read 4 (before the third iteration) stops it.
        refiner.Engine.Clock = () => ++reads;
        var labels = Filled(Untouched);
        Assert.False(Refine(refiner, labels, 3));
        Assert.Equal(4, reads);
        Assert.All(labels, l => Assert.Equal(Untouched, l));

        // One read per iteration check, one before and one after the full-resolution update, one at the start.
        reads = 0;
        Assert.True(Refine(refiner, labels, long.MaxValue));
        Assert.Equal(options.Iterations + 2, reads);
        Assert.Equal(Fresh(options), labels);

        // Past the deadline only after the last update: the labels are complete but late.
        reads = 0;
        Assert.False(Refine(refiner, labels, options.Iterations + 1));
    }

    private static bool Refine(BilateralCrfRefiner refiner, byte[] labels, long deadline) =>
        refiner.TryRefine(new ScoreMap(Logits, Classes, 8, 12), new BgrImage(Image, Width, Height), labels, deadline);

    private static byte[] Fresh(CrfOptions options)
    {
        using var refiner = new BilateralCrfRefiner(options);
        var labels = new byte[Width * Height];
        refiner.Refine(Logits, Classes, 8, 12, Image, Width, Height, labels);
        return labels;
    }

    private static byte[] Filled(byte value)
    {
        var labels = new byte[Width * Height];
        Array.Fill(labels, value);
        return labels;
    }
}
