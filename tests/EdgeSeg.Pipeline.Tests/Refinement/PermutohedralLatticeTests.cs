using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

public sealed class PermutohedralLatticeTests
{
    [Fact]
    public void Vector_location_matches_the_scalar_algorithm()
    {
        const int width = 53;
        const int height = 7;
        var image = new byte[width * height * 3];
        new Random(7).NextBytes(image);
        Span<float> scales = stackalloc float[PermutohedralLattice.Dims];
        PermutohedralLattice.FeatureScales(80f, 13f, scales);

        var vector = new PermutohedralLattice();
        vector.EnsureCapacity(width, height);
        vector.LocateRows(image, scales, 0, height);
        var scalar = ScalarLatticeLocation.Locate(image, scales, width, height);

        Assert.Equal(scalar.Keys, vector.PixelKeys.ToArray());
        Assert.Equal(scalar.Ranks, vector.PixelRanks.ToArray());
        var a = scalar.Weights;
        var b = vector.PixelWeights;
        for (var i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) < 1e-5f, $"weight {i}: scalar {a[i]}, vector {b[i]}");
        }
    }
}
