using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>
/// Acceptance on shared/reference/crf (found above the test assembly, or under
/// $EDGESEG_SHARED_DIR): six 512x256 street scenes with ground truth and the labels of the reference
/// dense CRF (pydensecrf, 10 iterations, the parameters below).
/// </summary>
public sealed class CrfReferenceTests
{
    private static readonly Lazy<IReadOnlyList<CrfReferenceCase>> Cases = new(() =>
    {
        var directory = CrfReferenceCase.Locate(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException(
                $"shared/reference/crf not found above {AppContext.BaseDirectory}; check out the shared data beside the repository or set {CrfReferenceCase.SharedDirVariable}");
        return CrfReferenceCase.LoadAll(directory);
    });

    [Fact]
    public void Plain_argmax_reproduces_the_reference_raw_labels()
    {
        var cases = Cases.Value;
        Assert.Equal(6, cases.Count);
        foreach (var c in cases)
        {
            var labels = new byte[c.Width * c.Height];
            CrfUnary.Argmax(c.Logits, CrfReferenceCase.Classes, CrfReferenceCase.ScoreHeight, CrfReferenceCase.ScoreWidth, c.Width, c.Height, labels);
            Assert.True(SegmentationScores.Agreement(labels, c.RawArgmax) >= 0.9999, $"{c.Name}: argmax differs from raw_argmax.png");
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(10)]
    public void Copying_confident_grid_labels_changes_almost_no_pixel(int iterations)
    {
        // The copy is a shortcut for the full-resolution update: against updating every pixel it
        // may differ only on a few pixels (with the defaults: 76% copied, no label changed).
        var cases = Cases.Value;
        using var copying = new BilateralCrfRefiner(new CrfOptions { Iterations = iterations });
        using var updating = new BilateralCrfRefiner(new CrfOptions { Iterations = iterations, CopyMargin = 0f });
        var copied = new byte[cases[0].Width * cases[0].Height];
        var updated = new byte[copied.Length];
        double agreement = 0, share = 0;
        foreach (var c in cases)
        {
            copying.Refine(c.Logits, CrfReferenceCase.Classes, CrfReferenceCase.ScoreHeight, CrfReferenceCase.ScoreWidth, c.ImageBgr, c.Width, c.Height, copied);
            updating.Refine(c.Logits, CrfReferenceCase.Classes, CrfReferenceCase.ScoreHeight, CrfReferenceCase.ScoreWidth, c.ImageBgr, c.Width, c.Height, updated);
            agreement += SegmentationScores.Agreement(copied, updated);
            share += copying.Engine.CopiedShare;
        }

        agreement /= cases.Count;
        share /= cases.Count;
        Assert.True(share >= 0.5, $"only {share:P1} of the pixels were copied");
        Assert.True(agreement >= 0.999, $"copying changed {1 - agreement:P3} of the labels (copied {share:P1})");
    }

    [Fact]
    public void Fast_crf_meets_the_reference_accuracy_and_agrees_with_the_reference_labels()
    {
        var cases = Cases.Value;
        var options = new CrfOptions
        {
            AppearanceWeight = 10f,
            AppearanceSpatialSigma = 80f,
            AppearanceColorSigma = 13f,
            SmoothnessWeight = 3f,
            SmoothnessSpatialSigma = 3f,
            Iterations = 10,
        };
        using var refiner = new BilateralCrfRefiner(options);
        double trimap = 0, rawTrimap = 0, miou = 0, rawMiou = 0, agreement = 0;
        var labels = new byte[cases[0].Width * cases[0].Height];
        foreach (var c in cases)
        {
            refiner.Refine(c.Logits, CrfReferenceCase.Classes, CrfReferenceCase.ScoreHeight, CrfReferenceCase.ScoreWidth, c.ImageBgr, c.Width, c.Height, labels);
            var band = SegmentationScores.TrimapBand(c.Truth, c.Width, c.Height, 2);
            trimap += SegmentationScores.BandAccuracy(labels, c.Truth, band, CrfReferenceCase.Classes);
            rawTrimap += SegmentationScores.BandAccuracy(c.RawArgmax, c.Truth, band, CrfReferenceCase.Classes);
            miou += SegmentationScores.MeanIou(labels, c.Truth, CrfReferenceCase.Classes);
            rawMiou += SegmentationScores.MeanIou(c.RawArgmax, c.Truth, CrfReferenceCase.Classes);
            agreement += SegmentationScores.Agreement(labels, c.Reference);
        }

        trimap /= cases.Count;
        rawTrimap /= cases.Count;
        miou /= cases.Count;
        rawMiou /= cases.Count;
        agreement /= cases.Count;

        // The scoring itself reproduces the README's raw figures (0.802, 0.837).
        Assert.Equal(0.802, rawTrimap, 3);
        Assert.Equal(0.837, rawMiou, 3);
        Assert.True(trimap >= 0.94, $"trimap-2 accuracy {trimap:F4} < 0.94");
        Assert.True(miou >= 0.87, $"mIoU {miou:F4} < 0.87");
        Assert.True(agreement >= 0.97, $"agreement with the reference labels {agreement:F4} < 0.97");
    }
}
