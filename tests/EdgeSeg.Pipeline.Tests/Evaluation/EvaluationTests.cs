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
    public void A_prediction_outside_the_label_set_counts_as_wrong_for_its_true_class()
    {
        // truth 0 0 1 1, predicted 0 200 1 1: class 0 has tp 1 and 2 truth pixels, 1 predicted → 1/2;
        // class 1 has tp 2, truth 2, predicted 2 → 1; the stray id is in no class's IoU but class 0's.
        var m = new ConfusionMatrix(2);
        m.Add(new byte[] { 0, 0, 1, 1 }, new byte[] { 0, 200, 1, 1 });
        Assert.Equal(0.5, m.IoU(0), 12);
        Assert.Equal(1.0, m.IoU(1), 12);
        Assert.Equal(0.75, m.MeanIoU(), 12);
        Assert.Equal(0.75, m.PixelAccuracy(), 12);
    }

    [Fact]
    public void The_band_around_a_one_pixel_island_is_the_diamond_of_its_width()
    {
        // The island at (2,2) and its four neighbours are boundary pixels; within 1 px of them lie the
        // pixels with |dx| + |dy| <= 2 (a diagonal pixel is 1 px from a neighbour, (0,0) is √5 from all).
        var truth = new byte[25];
        truth[12] = 1;
        var band = new byte[25];
        BoundaryBand.Compute(truth, 5, 5, 1, band);
        for (var y = 0; y < 5; y++)
        {
            for (var x = 0; x < 5; x++)
            {
                Assert.Equal(Math.Abs(x - 2) + Math.Abs(y - 2) <= 2 ? 1 : 0, band[(y * 5) + x]);
            }
        }

        BoundaryBand.Compute(truth, 5, 5, 0, band);
        Assert.Equal(5, band.Count(b => b == 1));
    }

    [Fact]
    public void A_map_without_a_label_change_has_an_empty_band()
    {
        var truth = Enumerable.Repeat((byte)3, 12).ToArray();
        var band = Enumerable.Repeat((byte)7, 12).ToArray();
        BoundaryBand.Compute(truth, 4, 3, 8, band);
        Assert.All(band, b => Assert.Equal(0, b));
        Assert.True(double.IsNaN(BoundaryBand.Accuracy(truth, truth, band, 19)));
    }

    [Fact]
    public void The_band_of_a_mirrored_or_flipped_map_is_the_mirrored_or_flipped_band()
    {
        // An L-shaped object and a stripe, placed off-centre so that no mirror maps the map onto itself.
        const int w = 13, h = 9;
        var truth = new byte[w * h];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                truth[(y * w) + x] = (x is >= 2 and <= 4 && y is >= 1 and <= 6) || (y is >= 5 and <= 6 && x is >= 2 and <= 8) ? (byte)1 : x >= 11 ? (byte)2 : (byte)0;
            }
        }

        static byte[] Mirror(byte[] map, bool horizontal) =>
            [.. Enumerable.Range(0, w * h).Select(i => horizontal ? map[((i / w) * w) + (w - 1 - (i % w))] : map[((h - 1 - (i / w)) * w) + (i % w)])];

        var band = new byte[w * h];
        BoundaryBand.Compute(truth, w, h, 2, band);
        Assert.Contains((byte)0, band);
        foreach (var horizontal in new[] { true, false })
        {
            var mirroredBand = new byte[w * h];
            BoundaryBand.Compute(Mirror(truth, horizontal), w, h, 2, mirroredBand);
            Assert.Equal(Mirror(band, horizontal), mirroredBand);
        }
    }

    [Fact]
    public void Trimap_accuracy_counts_the_labelled_pixels_inside_the_band_only()
    {
        // In the band and labelled: pixels 0 (right), 1 (wrong), 2 (right), 5 (wrong) → 2 of 4.
        // Pixel 3 is wrong but outside the band; pixel 4's truth is ignored (255), as in the confusion matrix.
        byte[] truth = [0, 0, 1, 1, 255, 2];
        byte[] predicted = [0, 1, 1, 0, 1, 0];
        byte[] band = [1, 1, 1, 0, 1, 1];
        Assert.Equal((2L, 4L), BoundaryBand.Count(truth, predicted, band, classes: 3));
        Assert.Equal(0.5, BoundaryBand.Accuracy(truth, predicted, band, classes: 3), 12);
    }

    [Fact]
    public void A_boundary_placed_one_pixel_off_loses_one_column_of_the_band()
    {
        // Truth changes from 0 to 1 between x = 9 and x = 10; the band of width 2 is x = 7..12 (30 pixels).
        // The prediction changes one pixel later: column 10 (5 pixels) is wrong → 25 / 30.
        const int w = 20, h = 5;
        var truth = new byte[w * h];
        var predicted = new byte[w * h];
        for (var i = 0; i < truth.Length; i++)
        {
            truth[i] = i % w < 10 ? (byte)0 : (byte)1;
            predicted[i] = i % w < 11 ? (byte)0 : (byte)1;
        }

        var band = new byte[w * h];
        BoundaryBand.Compute(truth, w, h, 2, band);
        Assert.Equal(30, band.Count(b => b == 1));
        Assert.Equal((25L, 30L), BoundaryBand.Count(truth, predicted, band, classes: 2));
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
