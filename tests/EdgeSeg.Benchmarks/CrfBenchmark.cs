using System.Diagnostics;
using System.Globalization;
using EdgeSeg.Pipeline.Refinement;
using EdgeSeg.Tests.Shared;

namespace EdgeSeg.Benchmarks;

/// <summary>
/// Times the plain argmax baseline and the fast CRF on the shared reference cases in one run,
/// interleaving the configurations frame by frame so that load from other processes hits all of
/// them alike, and prints accuracy against ground truth and agreement with the reference CRF.
/// </summary>
internal static class CrfBenchmark
{
    public static int Run(string[] args)
    {
        int[] iterations = [5, 10];
        var frames = 60;
        var threads = 0;
        int? scale = null;
        float? prune = null;
        float[]? margins = null;
        int? tolerance = null;
        string? shared = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--iterations" when value is not null:
                    iterations = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    i++;
                    break;
                case "--frames" when value is not null:
                    frames = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--threads" when value is not null:
                    threads = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--scale" when value is not null:
                    scale = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--prune" when value is not null:
                    prune = float.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--margin" when value is not null:
                    margins = value.Split(',').Select(m => float.Parse(m, CultureInfo.InvariantCulture)).ToArray();
                    i++;
                    break;
                case "--tolerance" when value is not null:
                    tolerance = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--shared" when value is not null:
                    shared = value;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"crf: unknown or incomplete option '{args[i]}'");
                    return 2;
            }
        }

        if (shared is not null)
        {
            Environment.SetEnvironmentVariable(CrfReferenceCase.SharedDirVariable, shared);
        }

        var directory = CrfReferenceCase.Locate(AppContext.BaseDirectory) ?? CrfReferenceCase.Locate(Environment.CurrentDirectory);
        if (directory is null)
        {
            Console.Error.WriteLine($"crf: shared/reference/crf not found; set {CrfReferenceCase.SharedDirVariable} or pass --shared");
            return 1;
        }

        var cases = CrfReferenceCase.LoadAll(directory);
        if (cases.Count == 0)
        {
            Console.Error.WriteLine($"crf: no case* folders in {directory}");
            return 1;
        }

        var width = cases[0].Width;
        var height = cases[0].Height;
        var classes = CrfReferenceCase.Classes;
        Console.WriteLine($"cases: {cases.Count} from {directory}, {width}x{height}, {classes} classes, logits {CrfReferenceCase.ScoreHeight}x{CrfReferenceCase.ScoreWidth}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeVersion()}, Vector<float> {System.Numerics.Vector<float>.Count} lanes");
        Console.WriteLine($"load average at the start: {LoadAverage()}");

        var configs = new List<Config> { new("argmax (no CRF)", null) };
        var defaults = new CrfOptions();
        foreach (var n in iterations)
        {
            foreach (var margin in margins ?? [defaults.CopyMargin])
            {
                var options = new CrfOptions
                {
                    Iterations = n,
                    WorkingScale = scale ?? defaults.WorkingScale,
                    ClassPruningThreshold = prune ?? defaults.ClassPruningThreshold,
                    CopyMargin = margin,
                    CopyColorTolerance = tolerance ?? defaults.CopyColorTolerance,
                };
                var name = margins is null ? $"fast CRF, {n} iterations" : string.Create(CultureInfo.InvariantCulture, $"fast CRF, {n} it., copy {margin}");
                configs.Add(new Config(name, new BilateralCrfRefiner(options, threads)));
            }
        }

        var labels = new byte[width * height];

        // Accuracy (and warm-up): every configuration on every case.
        var rawTable = new Scores();
        var referenceTable = new Scores();
        foreach (var c in cases)
        {
            rawTable.Add(c.RawArgmax, c);
            referenceTable.Add(c.Reference, c);
        }

        foreach (var config in configs)
        {
            foreach (var c in cases)
            {
                config.Process(c, labels);
                config.Accuracy.Add(labels, c);
            }
        }

        // Timing: configurations interleaved frame by frame, cycling over the cases.
        for (var f = 0; f < frames; f++)
        {
            var c = cases[f % cases.Count];
            foreach (var config in configs)
            {
                var t0 = Stopwatch.GetTimestamp();
                config.Process(c, labels);
                config.Times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                config.RecordStages();
            }
        }

        Console.WriteLine($"load average at the end: {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine($"{"",-26} {"p50 ms",8} {"p95 ms",8} {"trimap2",8} {"trimap4",8} {"trimap8",8} {"mIoU",7} {"agree",7}");
        PrintRow("raw argmax (reference)", null, rawTable);
        PrintRow("reference CRF, 10 it.", null, referenceTable);
        foreach (var config in configs)
        {
            PrintRow(config.Name, config.Times, config.Accuracy);
        }

        Console.WriteLine();
        Console.WriteLine("agree = share of pixels with the reference CRF's labels; trimapN = accuracy within N px of a gt boundary pixel");
        Console.WriteLine("(one with a 4-neighbour of another label); mIoU over classes in gt; all averaged over the cases. Times over " + frames + " frames per configuration.");
        foreach (var config in configs.Where(c => c.Refiner is not null))
        {
            var e = config.Refiner!.Engine;
            Console.WriteLine(
                $"{config.Name}: {config.Refiner.Parallelism} threads, working scale {config.Refiner.Options.WorkingScale}, " +
                $"copy margin {config.Refiner.Options.CopyMargin} / colour tolerance {config.Refiner.Options.CopyColorTolerance}, " +
                "fastest ms per stage: " + string.Join(", ", Enumerable.Range(0, config.Stages.Length).Select(s => string.Create(CultureInfo.InvariantCulture, $"{(MeanFieldEngine.Stage)s} {config.Stages[s].Min():F2}"))) + "; " +
                $"classes kept {e.ActiveClasses}/{classes}, lattice vertices {e.LatticeVertices}, pixels copied from the grid {e.CopiedShare:P0}");
            config.Refiner.Dispose();
        }

        return 0;
    }

    /// <summary>1, 5 and 15 minute load averages (Linux), since other work on the machine inflates the times.</summary>
    private static string LoadAverage()
    {
        const string path = "/proc/loadavg";
        return File.Exists(path) ? string.Join(' ', File.ReadAllText(path).Split(' ').Take(3)) : "unknown";
    }

    private static string RuntimeVersion() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    private static void PrintRow(string name, List<double>? times, Scores scores)
    {
        var p50 = times is null ? "" : Percentile(times, 0.50).ToString("F2", CultureInfo.InvariantCulture);
        var p95 = times is null ? "" : Percentile(times, 0.95).ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name,-26} {p50,8} {p95,8} {scores.Mean(0),8:F3} {scores.Mean(1),8:F3} {scores.Mean(2),8:F3} {scores.Mean(3),7:F3} {scores.Mean(4),7:F3}"));
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((rank - lo) * (sorted[hi] - sorted[lo]));
    }

    private sealed class Config(string name, BilateralCrfRefiner? refiner)
    {
        public string Name { get; } = name;

        public BilateralCrfRefiner? Refiner { get; } = refiner;

        public List<double> Times { get; } = [];

        public List<double>[] Stages { get; } = Enumerable.Range(0, (int)MeanFieldEngine.Stage.Count).Select(_ => new List<double>()).ToArray();

        public Scores Accuracy { get; } = new();

        public void Process(CrfReferenceCase c, byte[] labels)
        {
            if (Refiner is null)
            {
                CrfUnary.Argmax(c.Logits, CrfReferenceCase.Classes, CrfReferenceCase.ScoreHeight, CrfReferenceCase.ScoreWidth, c.Width, c.Height, labels);
            }
            else
            {
                Refiner.Refine(c.Logits, CrfReferenceCase.Classes, CrfReferenceCase.ScoreHeight, CrfReferenceCase.ScoreWidth, c.ImageBgr, c.Width, c.Height, labels);
            }
        }

        public void RecordStages()
        {
            if (Refiner is null)
            {
                return;
            }

            for (var s = 0; s < Stages.Length; s++)
            {
                Stages[s].Add(Refiner.Engine.StageMilliseconds((MeanFieldEngine.Stage)s));
            }
        }
    }

    /// <summary>Per-case figures: trimap 2/4/8, mIoU, agreement with the reference CRF.</summary>
    private sealed class Scores
    {
        private readonly List<double[]> _rows = [];

        public void Add(byte[] labels, CrfReferenceCase c) => _rows.Add(
        [
            c.TrimapAccuracy(labels, 2),
            c.TrimapAccuracy(labels, 4),
            c.TrimapAccuracy(labels, 8),
            c.MeanIoU(labels),
            CrfReferenceCase.Agreement(labels, c.Reference),
        ]);

        public double Mean(int column) => _rows.Average(r => r[column]);
    }
}
