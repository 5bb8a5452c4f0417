using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>Runs alone: the allocation counter covers every thread, the refiner's workers included.</summary>
[Collection(nameof(CrfAllocationTests))]
[CollectionDefinition(nameof(CrfAllocationTests), DisableParallelization = true)]
public sealed class CrfAllocationTests
{
    [Fact]
    public void Refining_a_warm_frame_allocates_nothing()
    {
        const int classes = 19;
        var image = CrfTestScenes.Regions(128, 64, seed: 9);
        var logits = CrfTestScenes.Logits(classes, 8, 16, seed: 10);
        var labels = new byte[128 * 64];
        var q = new float[classes * 128 * 64];
        using var refiner = new BilateralCrfRefiner(new CrfOptions(), parallelism: 2);
        for (var i = 0; i < 3; i++)
        {
            refiner.Refine(logits, classes, 8, 16, image, 128, 64, labels, q);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        refiner.Refine(logits, classes, 8, 16, image, 128, 64, labels, q);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(0, allocated);
    }

}
