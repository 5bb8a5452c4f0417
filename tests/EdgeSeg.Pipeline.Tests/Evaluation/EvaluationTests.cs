using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Evaluation;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Tests.Evaluation;

public sealed class EvaluationTests
{
    [Fact]
    public void The_confusion_matrix_matches_a_hand_count()
    {
        // truth:     0 0 0 1 1 2 2 255
        // predicted: 0 0 1 1 2 2 0 1
        byte[] truth = [0, 0, 0, 1, 1, 2, 2, 255];
        byte[] predicted = [0, 0, 1, 1, 2, 2, 0, 1];
        var m = new ConfusionMatrix(3);
        m.Add(truth, predicted);

        Assert.Equal(2, m[0, 0]);
        Assert.Equal(1, m[0, 1]);
        Assert.Equal(1, m[1, 1]);
        Assert.Equal(1, m[1, 2]);
        Assert.Equal(1, m[2, 2]);
        Assert.Equal(1, m[2, 0]);
        Assert.Equal(7, Enumerable.Range(0, 3).Sum(m.TruthCount));

        // IoU: class 0: tp 2, truth 3, predicted 3 → 2/4; class 1: 1/(2+2-1)=1/3; class 2: 1/(2+2-1)=1/3.
        Assert.Equal(0.5, m.IoU(0), 12);
        Assert.Equal(1.0 / 3, m.IoU(1), 12);
        Assert.Equal(1.0 / 3, m.IoU(2), 12);
        Assert.Equal((0.5 + (2.0 / 3)) / 3, m.MeanIoU(), 12);
        Assert.Equal(4.0 / 7, m.PixelAccuracy(), 12);
    }

    [Fact]
    public void Classes_absent_from_the_truth_do_not_count_in_the_mean_iou()
    {
        var m = new ConfusionMatrix(4);
        m.Add(new byte[] { 0, 0, 1, 1 }, new byte[] { 0, 0, 1, 3 });
        Assert.True(double.IsNaN(m.IoU(2)));
        Assert.Equal(0, m.IoU(3));
        Assert.Equal((1.0 + 0.5) / 2, m.MeanIoU(), 12);

        // The Cityscapes convention counts class 3, predicted but absent, with IoU 0.
        Assert.Equal((1.0 + 0.5 + 0) / 3, m.MeanIoUTruthOrPredicted(), 12);
    }

    [Fact]
    public void Adding_matrices_adds_their_counts()
    {
        var a = new ConfusionMatrix(2);
        a.Add(new byte[] { 0, 1 }, new byte[] { 0, 0 });
        var b = new ConfusionMatrix(2);
        b.Add(new byte[] { 1, 1 }, new byte[] { 1, 1 });
        a.AddCounts(b);
        Assert.Equal(1, a[0, 0]);
        Assert.Equal(1, a[1, 0]);
        Assert.Equal(2, a[1, 1]);
    }

    [Fact]
    public void The_boundary_band_holds_the_pixels_within_its_width_of_a_label_change()
    {
        var truth = new LabelMap(20, 5);
        for (var y = 0; y < 5; y++)
        {
            for (var x = 0; x < 20; x++)
            {
                truth.Labels[(y * 20) + x] = x < 10 ? (byte)0 : (byte)1;
            }
        }

        var band = new byte[100];
        BoundaryBand.Compute(truth, 2, band);
        // Boundary pixels are x = 9 and x = 10; within 2 px: x = 7..12.
        for (var x = 0; x < 20; x++)
        {
            Assert.Equal(x is >= 7 and <= 12 ? 1 : 0, band[(2 * 20) + x]);
        }
    }

    [Fact]
    public void Nearest_resizing_maps_each_target_pixel_to_the_source_pixel_under_its_centre()
    {
        var source = new LabelMap(2, 1);
        source.Labels[0] = 3;
        source.Labels[1] = 5;
        var target = new LabelMap(5, 2);
        LabelResize.Nearest(source, target);
        Assert.Equal(new byte[] { 3, 3, 5, 5, 5, 3, 3, 5, 5, 5 }, target.Labels.ToArray());
    }

    /// <summary>Writes a two-image dataset whose left half is red and right half blue, truth to match.</summary>
    private static string WriteRedBlueDataset(bool truthMatches)
    {
        var dir = TestFiles.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        Directory.CreateDirectory(Path.Combine(dir, "labels"));
        for (var i = 0; i < 2; i++)
        {
            using var image = new Mat(32, 64, MatType.CV_8UC3, new Scalar(0, 0, 255));
            Cv2.Rectangle(image, new Rect(32, 0, 32, 32), new Scalar(255, 0, 0), -1);
            using var labels = new Mat(32, 64, MatType.CV_8UC1, Scalar.All(0));
            // Truth: red (0) on the left, blue (2) on the right; when it does not match, the right quarter is green (1).
            Cv2.Rectangle(labels, new Rect(32, 0, 32, 32), Scalar.All(2), -1);
            if (!truthMatches)
            {
                Cv2.Rectangle(labels, new Rect(48, 0, 16, 32), Scalar.All(1), -1);
            }

            Cv2.ImWrite(Path.Combine(dir, "images", $"{i:000000}.png"), image);
            Cv2.ImWrite(Path.Combine(dir, "labels", $"{i:000000}.png"), labels);
        }

        return dir;
    }

    [Fact]
    public void A_model_that_matches_the_truth_scores_perfectly()
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions());
        using var source = new LabeledImageFolderSource(WriteRedBlueDataset(truthMatches: true));
        var result = new SegmentationEvaluator(segmenter).Run(source, 10);

        Assert.Equal(2, result.Frames);
        Assert.Equal(1.0, result.Raw.MeanIoU, 12);
        Assert.Equal(1.0, result.Raw.PixelAccuracy, 12);
        Assert.Equal(1.0, result.Raw.TrimapAccuracy, 12);
        Assert.Equal(0.0, result.Raw.MaxClassShareError, 12);
        Assert.Equal(0.5, result.Raw.Classes[0].MeanTrueShare, 12);
    }

    [Fact]
    public void Area_share_errors_are_the_difference_of_predicted_and_true_shares()
    {
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions());
        using var source = new LabeledImageFolderSource(WriteRedBlueDataset(truthMatches: false));
        var result = new SegmentationEvaluator(segmenter).Run(source, 10);

        // Truth: red 0.5, green 0.25, blue 0.25; prediction: red 0.5, blue 0.5.
        var c = result.Raw.Classes;
        Assert.Equal(0.0, c[0].MeanAbsShareError, 12);
        Assert.Equal(0.25, c[1].MeanAbsShareError, 12);
        Assert.Equal(0.25, c[2].MeanAbsShareError, 12);
        Assert.Equal(0.5, c[2].IoU, 12);
        Assert.Equal(0.0, c[1].IoU, 12);
        Assert.Equal((1 + 0 + 0.5) / 3, result.Raw.MeanIoU, 12);
        Assert.Equal(0.75, result.Raw.PixelAccuracy, 12);
    }

    [Fact]
    public void A_dataset_folder_without_labels_is_rejected_by_name()
    {
        var dir = TestFiles.NewTempDirectory();
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        var e = Assert.Throws<FrameSourceException>(() => new LabeledImageFolderSource(dir));
        Assert.Contains("needs images/ and labels/", e.Message, StringComparison.Ordinal);
    }
}
