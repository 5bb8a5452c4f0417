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
}
