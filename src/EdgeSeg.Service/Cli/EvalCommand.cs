using System.CommandLine;
using System.Globalization;
using System.Text;
using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Evaluation;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Refinement;
using EdgeSeg.Pipeline.Synthetic;
using EdgeSeg.Service.Configuration;

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
        var model = new Option<string[]>("--model", "-m")
        {
            Description = "ONNX model (default: the bundled one); give two to compare them on the same frames",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var markdown = new Option<bool>("--markdown") { Description = "Print the per-class table as Markdown" };
        var crf = new Option<bool>("--crf") { Description = "Also measure the CRF-refined labels, side by side with the raw ones" };
        var iterations = new Option<int>("--crf-iterations") { Description = "Mean-field iterations for --crf", DefaultValueFactory = _ => 5 };
        var zones = new Option<string?>("--zones")
        {
            Description = "A configuration file: also measure the zones, class groups and ground plane of its first camera (square metres against the synthetic street's exact geometry)",
        };
        var command = new Command("eval", "Per-class IoU, mIoU, pixel accuracy and area-share error against ground truth")
        {
            sources, frames, model, markdown, crf, iterations, zones,
        };
        command.SetAction(parse =>
        {
            var models = parse.GetValue(model) ?? [];
            if (models.Length > 2)
            {
                Console.Error.WriteLine($"edgeseg eval: --model: give one model, or two to compare; got {models.Length}");
                return ExitCodes.Usage;
            }

            if (models.Length == 2 && parse.GetValue(zones) is not null)
            {
                Console.Error.WriteLine("edgeseg eval: --zones measures one model; give one --model");
                return ExitCodes.Usage;
            }

            return models.Length == 2
                ? Compare(parse.GetValue(sources)!, parse.GetValue(frames), models[0], models[1], parse.GetValue(markdown))
                : Run(parse.GetValue(sources)!, parse.GetValue(frames), models.FirstOrDefault(), parse.GetValue(markdown), parse.GetValue(crf) ? parse.GetValue(iterations) : 0, parse.GetValue(zones));
        });
        return command;
    }

    /// <summary>Runs the evaluator over each source; on a bad source, writes why and returns its exit code instead.</summary>
    private static (List<EvaluationResult>? Results, int Exit) Evaluate(
        SegmentationEvaluator evaluator, string[] sources, int frames, Func<ILabeledFrameSource, AreaEvaluation?>? areas = null)
    {
        var results = new List<EvaluationResult>();
        foreach (var uri in sources)
        {
            using var source = CliModel.Open("eval", uri);
            if (source is null)
            {
                return (null, ExitCodes.Usage);
            }

            if (source is not ILabeledFrameSource labelled)
            {
                Console.Error.WriteLine($"edgeseg eval: '{uri}' has no ground truth; use synthetic://… or a dataset folder");
                return (null, ExitCodes.Usage);
            }

            try
            {
                results.Add(evaluator.Run(labelled, frames, areas: areas?.Invoke(labelled)));
            }
            catch (FrameSourceException e)
            {
                Console.Error.WriteLine($"edgeseg eval: {e.Message}");
                return (null, ExitCodes.Failure);
            }
        }

        return (results, ExitCodes.Ok);
    }

    private static int Compare(string[] sources, int frames, string modelA, string modelB, bool markdown)
    {
        if (frames < 1)
        {
            Console.Error.WriteLine($"edgeseg eval: --frames must be at least 1, got {frames}");
            return ExitCodes.Usage;
        }

        var combined = new List<EvaluationResult>();
        var names = new List<string>();
        foreach (var path in new[] { modelA, modelB })
        {
            using var segmenter = CliModel.Load("eval", path);
            if (segmenter is null)
            {
                return ExitCodes.Config;
            }

            if (combined.Count == 1 && segmenter.Model.Labels.Count != combined[0].Raw.Classes.Count)
            {
                Console.Error.WriteLine($"edgeseg eval: the two models have different classes ({combined[0].Raw.Classes.Count} and {segmenter.Model.Labels.Count}); compare models of one label set");
                return ExitCodes.Usage;
            }

            var (results, exit) = Evaluate(new SegmentationEvaluator(segmenter), sources, frames);
            if (results is null)
            {
                return exit;
            }

            combined.Add(EvaluationReport.Combine(results, segmenter.Model.Labels));
            names.Add(segmenter.Model.ToString());
        }

        Console.WriteLine($"A       {names[0]}");
        Console.WriteLine($"B       {names[1]}");
        Console.WriteLine($"source  {string.Join(" ", sources)} ({combined[0].Frames} frames, the same for both)");
        Console.WriteLine();
        Console.Write(EvaluationReport.FormatComparison(combined[0], combined[1], markdown));
        return ExitCodes.Ok;
    }

    private static int Run(string[] sources, int frames, string? model, bool markdown, int crfIterations, string? zonesConfig)
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

        Func<ILabeledFrameSource, AreaEvaluation?>? areas = null;
        if (zonesConfig is not null)
        {
            if (ZoneLayouts(zonesConfig, segmenter.Model) is not { } layout)
            {
                return ExitCodes.Config;
            }

            areas = source => TruthLayout(layout, source) is { } truth
                ? new AreaEvaluation(truth.Predicted, truth.Truth)
                : null;
        }

        using var refiner = crfIterations > 0 ? new BilateralCrfRefiner(crfOptions) : null;
        var (results, exit) = Evaluate(new SegmentationEvaluator(segmenter, refiner), sources, frames, areas);
        if (results is null)
        {
            return exit;
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

        for (var i = 0; i < results.Count; i++)
        {
            if (results[i].Areas is { } a)
            {
                Console.WriteLine();
                Console.WriteLine($"zones and ground areas on {sources[i]} ({results[i].Frames} frames):");
                Console.Write(EvaluationReport.FormatAreas(a, markdown));
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>The first camera's zones, groups and ground plane of a configuration file, for the model; null after writing why not.</summary>
    private static AreaLayout? ZoneLayouts(string path, ModelDescription model)
    {
        try
        {
            var config = ConfigurationLoader.Load(path);
            return AreaConfiguration.Build(config.Options, model.Labels, model.Width, model.Height)[0].Layout;
        }
        catch (ConfigurationException e)
        {
            AppStartup.ReportConfigurationErrors(e, Console.Error);
            return null;
        }
    }

    /// <summary>
    /// The configured layout and its truth for one source: the same zones and groups, with the source's
    /// exact ground plane when it is a synthetic street (without one, ground areas are not measured).
    /// </summary>
    private static (AreaLayout Predicted, AreaLayout Truth)? TruthLayout(AreaLayout configured, ILabeledFrameSource source)
    {
        if (configured.Ground is not null && source is SyntheticFrameSource street)
        {
            var exact = street.Ground.Plane(street.Width, street.Height, configured.Ground.MaxDistance);
            return (configured, new AreaLayout(configured.ClassNames, configured.Groups, configured.Zones, exact, configured.GroundSeries));
        }

        if (configured.Ground is not null)
        {
            Console.Error.WriteLine($"edgeseg eval: {source.Description} has no known geometry; zones only, no square metres");
        }

        var flat = new AreaLayout(configured.ClassNames, configured.Groups, configured.Zones);
        return (flat, flat);
    }
}

/// <summary>Formats evaluation results as a text or Markdown table.</summary>
internal static class EvaluationReport
{
    /// <summary>The primary mIoU (every figure the project publishes): IoU averaged over the classes that occur in the truth.</summary>
    public const string MeanIoUInTruth = "mIoU (classes in truth)";

    /// <summary>The Cityscapes mIoU: a class only predicted counts too, with IoU 0.</summary>
    public const string MeanIoUCityscapes = "mIoU (Cityscapes: classes in truth or prediction)";

    /// <summary>A summary line's name, padded so that the figures of all the lines start in one column.</summary>
    private static string Label(string name) => name.PadRight(MeanIoUCityscapes.Length + 2);

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
            "raw → CRF: trimap-{0} {1:0.000} → {2:0.000} ({3}), mIoU {4:0.000} → {5:0.000} ({6}), pixel accuracy {7:0.000} → {8:0.000}",
            trimapWidth, raw.TrimapAccuracy, refined.TrimapAccuracy, Signed(refined.TrimapAccuracy - raw.TrimapAccuracy, 3),
            raw.MeanIoU, refined.MeanIoU, Signed(refined.MeanIoU - raw.MeanIoU, 3), raw.PixelAccuracy, refined.PixelAccuracy);

    /// <summary>
    /// A difference with its sign: "+0.012", "-0.004", and "0.000" for one that rounds to zero. A bare
    /// "+0.000;-0.000" format writes a small negative difference as "-+0.000" (.NET formats a negative
    /// number that rounds to zero with the positive section, keeping the minus sign).
    /// </summary>
    internal static string Signed(double value, int decimals)
    {
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        var digits = "0." + new string('0', decimals);
        return rounded == 0 ? digits : rounded.ToString("+" + digits + ";-" + digits, CultureInfo.InvariantCulture);
    }

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

    /// <summary>Two models' results on the same frames, class by class, and what changed from A to B.</summary>
    public static string FormatComparison(EvaluationResult a, EvaluationResult b, bool markdown)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(markdown
            ? "| class | IoU A | IoU B | Δ IoU | share error A | share error B |\n| --- | ---: | ---: | ---: | ---: | ---: |"
            : "class               IoU A    IoU B    Δ IoU   |share err| A  |share err| B");
        for (var c = 0; c < a.Raw.Classes.Count; c++)
        {
            var x = a.Raw.Classes[c];
            var y = b.Raw.Classes[c];
            string Iou(double v) => double.IsNaN(v) ? "-" : v.ToString("0.000", inv);
            var delta = double.IsNaN(x.IoU) || double.IsNaN(y.IoU) ? "-" : Signed(y.IoU - x.IoU, 3);
            text.AppendLine(markdown
                ? string.Format(inv, "| {0} | {1} | {2} | {3} | {4:0.0000} | {5:0.0000} |", x.Name, Iou(x.IoU), Iou(y.IoU), delta, x.MeanAbsShareError, y.MeanAbsShareError)
                : string.Format(inv, "{0,-15} {1,9} {2,8} {3,8} {4,14:0.0000} {5,14:0.0000}", x.Name, Iou(x.IoU), Iou(y.IoU), delta, x.MeanAbsShareError, y.MeanAbsShareError));
        }

        var worstA = a.Raw.Classes.MaxBy(c => c.MeanAbsShareError)!;
        var worstB = b.Raw.Classes.MaxBy(c => c.MeanAbsShareError)!;
        text.AppendLine();
        text.AppendLine(string.Format(inv, "{0}A {1:0.0000}  B {2:0.0000}  drop {3} ({4} points)", Label(MeanIoUInTruth), a.Raw.MeanIoU, b.Raw.MeanIoU, Signed(a.Raw.MeanIoU - b.Raw.MeanIoU, 4), Signed(100 * (a.Raw.MeanIoU - b.Raw.MeanIoU), 2)));
        text.AppendLine(string.Format(inv, "{0}A {1:0.0000}  B {2:0.0000}", Label(MeanIoUCityscapes), a.Raw.Matrix.MeanIoUTruthOrPredicted(), b.Raw.Matrix.MeanIoUTruthOrPredicted()));
        text.AppendLine(string.Format(inv, "{0}A {1:0.0000}  B {2:0.0000}", Label("pixel accuracy"), a.Raw.PixelAccuracy, b.Raw.PixelAccuracy));
        text.AppendLine(string.Format(inv, "{0}A {1:0.0000}  B {2:0.0000}", Label($"trimap-{a.TrimapWidth} accuracy"), a.Raw.TrimapAccuracy, b.Raw.TrimapAccuracy));
        text.AppendLine(string.Format(inv, "{0}A {1:0.0000} ({2})  B {3:0.0000} ({4})  B − A {5}", Label("worst share error"), worstA.MeanAbsShareError, worstA.Name, worstB.MeanAbsShareError, worstB.Name, Signed(worstB.MeanAbsShareError - worstA.MeanAbsShareError, 4)));
        return text.ToString();
    }

    /// <summary>Per-zone share errors and square-metre errors.</summary>
    public static string FormatAreas(AreaEvaluationResult areas, bool markdown)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        if (areas.Zones.Count > 0)
        {
            text.AppendLine(markdown
                ? "| zone | frame share | mean share error | worst class or group | its error |\n| --- | ---: | ---: | --- | ---: |"
                : "zone             frame share  |share err|  worst (class or group)   its error");
            foreach (var z in areas.Zones)
            {
                text.AppendLine(markdown
                    ? string.Format(inv, "| {0} | {1:0.000} | {2:0.0000} | {3} | {4:0.0000} |", z.Name, z.FrameShare, z.MeanAbsShareError, z.WorstSeries, z.WorstAbsShareError)
                    : string.Format(inv, "{0,-16} {1,11:0.000} {2,12:0.0000}  {3,-22} {4,10:0.0000}", z.Name, z.FrameShare, z.MeanAbsShareError, z.WorstSeries, z.WorstAbsShareError));
            }
        }

        if (areas.Ground.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(markdown
                ? "| region | class or group | true m² | predicted m² | mean abs error m² | relative |\n| --- | --- | ---: | ---: | ---: | ---: |"
                : "region           class or group     true m²   pred m²   |err| m²   relative");
            foreach (var g in areas.Ground.Where(g => g.MeanTrueM2 > 0 || g.MeanPredictedM2 > 0))
            {
                var relative = double.IsNaN(g.RelativeError) ? "-" : g.RelativeError.ToString("0.0%", inv);
                text.AppendLine(markdown
                    ? string.Format(inv, "| {0} | {1} | {2:0.0} | {3:0.0} | {4:0.0} | {5} |", g.Region, g.Series, g.MeanTrueM2, g.MeanPredictedM2, g.MeanAbsErrorM2, relative)
                    : string.Format(inv, "{0,-16} {1,-15} {2,10:0.0} {3,9:0.0} {4,9:0.0} {5,10}", g.Region, g.Series, g.MeanTrueM2, g.MeanPredictedM2, g.MeanAbsErrorM2, relative));
            }
        }

        return text.ToString();
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
        text.AppendLine(string.Format(inv, "{0}{1:0.000}", Label(MeanIoUInTruth), r.MeanIoU));
        text.AppendLine(string.Format(inv, "{0}{1:0.000}", Label(MeanIoUCityscapes), r.Matrix.MeanIoUTruthOrPredicted()));
        text.AppendLine(string.Format(inv, "{0}{1:0.000}", Label("pixel accuracy"), r.PixelAccuracy));
        text.AppendLine(string.Format(inv, "{0}{1:0.000}", Label($"trimap-{result.TrimapWidth} accuracy"), r.TrimapAccuracy));
        text.AppendLine(string.Format(inv, "{0}mean {1:0.0000}, worst class {2:0.0000} ({3})", Label("area-share error"), r.MeanAbsShareError, worst.MeanAbsShareError, worst.Name));
        return text.ToString();
    }
}
