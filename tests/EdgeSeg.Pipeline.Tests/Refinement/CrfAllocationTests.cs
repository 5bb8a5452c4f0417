using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

[Collection(nameof(CrfAllocationTests))]
[CollectionDefinition(nameof(CrfAllocationTests), DisableParallelization = true)]
public sealed class CrfAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Refining_a_warm_frame_allocates_nothing(int parallelism)
    {
        // Counted on the calling thread, which runs every serial step and its share of each parallel
        // one; with parallelism 1 that is all of the work.
        const int classes = 19;
        var image = CrfTestScenes.Regions(128, 64, seed: 9);
        var logits = CrfTestScenes.Logits(classes, 8, 16, seed: 10);
        var labels = new byte[128 * 64];
        var q = new float[classes * 128 * 64];
        using var refiner = new BilateralCrfRefiner(new CrfOptions(), parallelism);
        for (var i = 0; i < 3; i++)
        {
            refiner.Refine(logits, classes, 8, 16, image, 128, 64, labels, q);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 5; i++)
        {
            refiner.Refine(logits, classes, 8, 16, image, 128, 64, labels, q);
            refiner.Refine(logits, classes, 8, 16, image, 128, 64, labels);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
