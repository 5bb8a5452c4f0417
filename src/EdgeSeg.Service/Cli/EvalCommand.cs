using System.CommandLine;
using System.Globalization;
using System.Text;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Evaluation;
using EdgeSeg.Pipeline.Refinement;

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
        var crf = new Option<bool>("--crf") { Description = "Also measure the CRF-refined labels, side by side with the raw ones" };
        var iterations = new Option<int>("--crf-iterations") { Description = "Mean-field iterations for --crf", DefaultValueFactory = _ => 5 };
        var command = new Command("eval", "Per-class IoU, mIoU, pixel accuracy and area-share error against ground truth")
        {
            sources, frames, model, markdown, crf, iterations,
        };
        command.SetAction(parse => Run(
            parse.GetValue(sources)!, parse.GetValue(frames), parse.GetValue(model), parse.GetValue(markdown),
            parse.GetValue(crf) ? parse.GetValue(iterations) : 0));
        return command;
    }

    private static int Run(string[] sources, int frames, string? model, bool markdown, int crfIterations)
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

        var crfOptions = new CrfOptions { Iterations = Math.Max(crfIterations, 1) };
        if (crfIterations > 0 && crfOptions.Validate() is { Count: > 0 } crfErrors)
        {
            Console.Error.WriteLine($"edgeseg eval: --crf-iterations: {string.Join("; ", crfErrors)}");
            return ExitCodes.Usage;
        }

        using var refiner = crfIterations > 0 ? new BilateralCrfRefiner(crfOptions) : null;
        var evaluator = new SegmentationEvaluator(segmenter, refiner);
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
        if (combined.Refined is { } refined)
        {
            Console.WriteLine();
            Console.WriteLine($"with the dense CRF ({crfIterations} iterations):");
            Console.Write(EvaluationReport.Format(combined with { Raw = refined, Refined = null }, markdown));
            Console.WriteLine();
            Console.WriteLine(EvaluationReport.Compare(combined.Raw, refined, combined.TrimapWidth));
        }

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

        var frames = results.Sum(r => r.Frames);
        var raw = Combine(results.Select(r => (r.Raw, r.Frames)).ToList(), labels, frames);
        var refined = results.All(r => r.Refined is not null)
            ? Combine(results.Select(r => (r.Refined!, r.Frames)).ToList(), labels, frames)
            : null;
        return new EvaluationResult(frames, results[0].TrimapWidth, raw, refined);
    }

    /// <summary>One line: how refinement changed boundary accuracy and mIoU.</summary>
    public static string Compare(LabellingEvaluation raw, LabellingEvaluation refined, int trimapWidth) =>
        string.Format(
            CultureInfo.InvariantCulture,
            "raw → CRF: trimap-{0} {1:0.000} → {2:0.000} ({3:+0.000;-0.000}), mIoU {4:0.000} → {5:0.000} ({6:+0.000;-0.000}), pixel accuracy {7:0.000} → {8:0.000}",
            trimapWidth, raw.TrimapAccuracy, refined.TrimapAccuracy, refined.TrimapAccuracy - raw.TrimapAccuracy,
            raw.MeanIoU, refined.MeanIoU, refined.MeanIoU - raw.MeanIoU, raw.PixelAccuracy, refined.PixelAccuracy);

    private static LabellingEvaluation Combine(List<(LabellingEvaluation Result, int Frames)> parts, Pipeline.Inference.LabelSet labels, int frames)
    {
        var matrix = new ConfusionMatrix(labels.Count);
        foreach (var (r, _) in parts)
        {
            matrix.AddCounts(r.Matrix);
        }

        var classes = Enumerable.Range(0, labels.Count).Select(c => new ClassEvaluation(
            labels.ClassNames[c],
            matrix.TruthCount(c),
            matrix.IoU(c),
            parts.Sum(p => p.Result.Classes[c].MeanTrueShare * p.Frames) / frames,
            parts.Sum(p => p.Result.Classes[c].MeanPredictedShare * p.Frames) / frames,
            parts.Sum(p => p.Result.Classes[c].MeanAbsShareError * p.Frames) / frames)).ToList();
        var trimap = parts.Sum(p => p.Result.TrimapAccuracy * p.Frames) / frames;
        return new LabellingEvaluation(
            matrix, classes, matrix.MeanIoU(), matrix.PixelAccuracy(), trimap,
            classes.Average(c => c.MeanAbsShareError), classes.Max(c => c.MeanAbsShareError));
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
