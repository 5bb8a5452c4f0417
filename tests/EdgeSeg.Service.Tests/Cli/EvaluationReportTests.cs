using System.Text.RegularExpressions;
using EdgeSeg.Pipeline.Evaluation;
using EdgeSeg.Service.Cli;

namespace EdgeSeg.Service.Tests.Cli;

public sealed class EvaluationReportTests
{
    /// <summary>
    /// Truth 0 0 1 1, prediction 0 0 1 3 over 4 classes: IoU 1 for class 0, 1/2 for class 1, 0 for
    /// class 3 (only predicted), none for class 2. In the truth: (1 + 1/2) / 2 = 0.75; Cityscapes,
    /// counting class 3: (1 + 1/2 + 0) / 3 = 0.5.
    /// </summary>
    private static EvaluationResult HandMade()
    {
        var matrix = new ConfusionMatrix(4);
        matrix.Add(new byte[] { 0, 0, 1, 1 }, new byte[] { 0, 0, 1, 3 });
        var classes = Enumerable.Range(0, 4).Select(c => new ClassEvaluation($"class{c}", matrix.TruthCount(c), matrix.IoU(c), 0, 0, 0)).ToList();
        var raw = new LabellingEvaluation(matrix, classes, matrix.MeanIoU(), matrix.PixelAccuracy(), TrimapAccuracy: 0.625, 0, 0);
        return new EvaluationResult(1, 2, raw, null);
    }

    private static double Figure(string report, string name)
    {
        var line = report.Split('\n').Single(l => l.StartsWith(name, StringComparison.Ordinal));
        return double.Parse(Regex.Match(line[name.Length..], @"\d+\.\d+").Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_report_gives_both_mean_ious_by_name_the_one_over_classes_in_the_truth_first()
    {
        var report = EvaluationReport.Format(HandMade(), markdown: false);
        Assert.Equal(0.75, Figure(report, EvaluationReport.MeanIoUInTruth), 3);
        Assert.Equal(0.5, Figure(report, EvaluationReport.MeanIoUCityscapes), 3);
        Assert.True(report.IndexOf(EvaluationReport.MeanIoUInTruth, StringComparison.Ordinal) < report.IndexOf(EvaluationReport.MeanIoUCityscapes, StringComparison.Ordinal));
        Assert.Equal(0.75, Figure(report, "pixel accuracy"), 3);
        Assert.Equal(0.625, Figure(report, "trimap-2 accuracy"), 3);
    }

    [Fact]
    public void A_comparison_gives_both_mean_ious_of_each_model()
    {
        var report = EvaluationReport.FormatComparison(HandMade(), HandMade(), markdown: false);
        Assert.Matches(Regex.Escape(EvaluationReport.MeanIoUInTruth) + @" +A 0\.7500  B 0\.7500", report);
        Assert.Matches(Regex.Escape(EvaluationReport.MeanIoUCityscapes) + @" +A 0\.5000  B 0\.5000", report);
    }

    [Theory]
    [InlineData(0.0123, 3, "+0.012")]
    [InlineData(-0.0041, 3, "-0.004")]
    [InlineData(-0.0002, 3, "0.000")]
    [InlineData(0.0002, 3, "0.000")]
    [InlineData(0.0, 4, "0.0000")]
    [InlineData(-1.25, 2, "-1.25")]
    public void A_difference_is_written_with_its_sign_and_one_that_rounds_to_zero_without_one(double value, int decimals, string expected) =>
        Assert.Equal(expected, EvaluationReport.Signed(value, decimals));

    [Fact]
    public void A_comparison_of_nearly_equal_models_writes_no_doubled_sign()
    {
        var a = HandMade();
        var report = EvaluationReport.FormatComparison(a, a, markdown: true);
        Assert.DoesNotContain("-+", report, StringComparison.Ordinal);
        Assert.DoesNotContain("+-", report, StringComparison.Ordinal);
        Assert.Contains("| class1 | 0.500 | 0.500 | 0.000 |", report, StringComparison.Ordinal);
    }
}
