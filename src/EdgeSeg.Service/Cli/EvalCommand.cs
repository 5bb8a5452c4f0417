using System.CommandLine;
using System.Globalization;
using System.Text;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Evaluation;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg eval</c>: accuracy of the model, and of the published area shares, against known truth.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var sources = new Option<string[]>("--source")
        {
            Description = "Labelled source(s): synthetic://street?seed=S&size=WxH or a dataset folder (images/, labels/); repeatable",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var frames = new Option<int>("--frames", "-n") { Description = "Frames per source", DefaultValueFactory = _ => 50 };
        var model = new Option<string>("--model", "-m") { Description = "ONNX model (default: the bundled one)" };
        var markdown = new Option<bool>("--markdown") { Description = "Print the per-class table as Markdown" };
        var command = new Command("eval", "Per-class IoU, mIoU, pixel accuracy and area-share error against ground truth")
        {
            sources, frames, model, markdown,
        };
        command.SetAction(parse => Run(parse.GetValue(sources)!, parse.GetValue(frames), parse.GetValue(model), parse.GetValue(markdown)));
        return command;
    }

    private static int Run(string[] sources, int frames, string? model, bool markdown)
    {
        if (frames < 1)
        {
            Console.Error.WriteLine($"edgeseg eval: --frames must be at least 1, got {frames}");
            return ExitCodes.Usage;
        }

        using var segmenter = CliModel.Load("eval", model);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        var evaluator = new SegmentationEvaluator(segmenter);
        var results = new List<EvaluationResult>();
        foreach (var uri in sources)
        {
            using var source = CliModel.Open("eval", uri);
            if (source is null)
            {
                return ExitCodes.Usage;
            }

            if (source is not ILabeledFrameSource labelled)
            {
                Console.Error.WriteLine($"edgeseg eval: '{uri}' has no ground truth; use synthetic://… or a dataset folder");
                return ExitCodes.Usage;
            }

            try
            {
                results.Add(evaluator.Run(labelled, frames));
            }
            catch (FrameSourceException e)
            {
                Console.Error.WriteLine($"edgeseg eval: {e.Message}");
                return ExitCodes.Failure;
            }
        }

        var combined = EvaluationReport.Combine(results, segmenter.Model.Labels);
        Console.WriteLine($"model   {segmenter.Model}");
        Console.WriteLine($"source  {string.Join(" ", sources)} ({combined.Frames} frames)");
        Console.WriteLine();
        Console.Write(EvaluationReport.Format(combined, markdown));
        return ExitCodes.Ok;
    }
}

/// <summary>Formats evaluation results as a text or Markdown table.</summary>
internal static class EvaluationReport
{
    /// <summary>Merges several evaluations (one per source) into one, weighting by frames.</summary>
    public static EvaluationResult Combine(IReadOnlyList<EvaluationResult> results, Pipeline.Inference.LabelSet labels)
    {
        if (results.Count == 1)
        {
            return results[0];
        }

        var matrix = new ConfusionMatrix(labels.Count);
        foreach (var r in results)
        {
            matrix.AddCounts(r.Raw.Matrix);
        }

        var frames = results.Sum(r => r.Frames);
        var classes = Enumerable.Range(0, labels.Count).Select(c => new ClassEvaluation(
            labels.ClassNames[c],
            matrix.TruthCount(c),
            matrix.IoU(c),
            results.Sum(r => r.Raw.Classes[c].MeanTrueShare * r.Frames) / frames,
            results.Sum(r => r.Raw.Classes[c].MeanPredictedShare * r.Frames) / frames,
            results.Sum(r => r.Raw.Classes[c].MeanAbsShareError * r.Frames) / frames)).ToList();
        var trimap = results.Sum(r => r.Raw.TrimapAccuracy * r.Frames) / frames;
        return new EvaluationResult(frames, results[0].TrimapWidth, new LabellingEvaluation(
            matrix, classes, matrix.MeanIoU(), matrix.PixelAccuracy(), trimap,
            classes.Average(c => c.MeanAbsShareError), classes.Max(c => c.MeanAbsShareError)), null);
    }

    public static string Format(EvaluationResult result, bool markdown)
    {
        var inv = CultureInfo.InvariantCulture;
        var r = result.Raw;
        var text = new StringBuilder();
        if (markdown)
        {
            text.AppendLine("| class | truth pixels | IoU | true share | predicted share | mean abs share error |");
            text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        }
        else
        {
            text.AppendLine("class            truth px      IoU   true share  pred share  |share err|");
        }

        foreach (var c in r.Classes)
        {
            var iou = double.IsNaN(c.IoU) ? "-" : c.IoU.ToString("0.000", inv);
            text.AppendLine(markdown
                ? string.Format(inv, "| {0} | {1} | {2} | {3:0.0000} | {4:0.0000} | {5:0.0000} |", c.Name, c.TruthPixels, iou, c.MeanTrueShare, c.MeanPredictedShare, c.MeanAbsShareError)
                : string.Format(inv, "{0,-15} {1,10} {2,8} {3,11:0.0000} {4,11:0.0000} {5,11:0.0000}", c.Name, c.TruthPixels, iou, c.MeanTrueShare, c.MeanPredictedShare, c.MeanAbsShareError));
        }

        var worst = r.Classes.MaxBy(c => c.MeanAbsShareError)!;
        text.AppendLine();
        text.AppendLine(string.Format(inv, "mIoU (classes present)   {0:0.000}", r.MeanIoU));
        text.AppendLine(string.Format(inv, "pixel accuracy           {0:0.000}", r.PixelAccuracy));
        text.AppendLine(string.Format(inv, "trimap-{0} accuracy        {1:0.000}", result.TrimapWidth, r.TrimapAccuracy));
        text.AppendLine(string.Format(inv, "area-share error         mean {0:0.0000}, worst class {1:0.0000} ({2})", r.MeanAbsShareError, worst.MeanAbsShareError, worst.Name));
        return text.ToString();
    }
}
