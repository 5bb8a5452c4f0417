using System.CommandLine;
using System.Globalization;
using EdgeSeg.Pipeline.Benchmarking;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Service.Configuration;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg bench</c>: raw inference beside whole-pipeline throughput, from one run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source")
        {
            Description = "Frame source URI (a file with ?loop=true, or synthetic://street?size=WxH)",
            DefaultValueFactory = _ => "synthetic://street?seed=3&size=512x256",
        };
        var frames = new Option<int>("--frames", "-n") { Description = "Frames to measure in each phase", DefaultValueFactory = _ => 100 };
        var model = new Option<string[]>("--model", "-m")
        {
            Description = "ONNX model (default: the bundled one); give two to measure them side by side, interleaved",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var rounds = new Option<int>("--rounds") { Description = "With two models: A B B A rounds to interleave", DefaultValueFactory = _ => 4 };
        var threads = new Option<int>("--threads") { Description = "Model CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var provider = new Option<ExecutionProvider[]>("--provider")
        {
            Description = "Execution providers to try, best first",
            DefaultValueFactory = _ => [ExecutionProvider.CPU],
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("bench", "Measure raw inference and whole-pipeline throughput side by side")
        {
            source, frames, model, threads, provider, rounds,
        };
        command.SetAction(parse =>
        {
            var models = parse.GetValue(model) ?? [];
            return models.Length switch
            {
                0 or 1 => Run(parse.GetValue(source)!, parse.GetValue(frames), models.FirstOrDefault(), parse.GetValue(threads), parse.GetValue(provider)!),
                2 => Compare(parse.GetValue(source)!, parse.GetValue(frames), models[0], models[1], parse.GetValue(threads), parse.GetValue(provider)!, parse.GetValue(rounds)),
                _ => Usage($"--model: give one model, or two to compare; got {models.Length}"),
            };
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"edgeseg bench: {message}");
        return ExitCodes.Usage;
    }

    private static int Compare(string source, int frames, string modelA, string modelB, int threads, ExecutionProvider[] providers, int rounds)
    {
        if (frames < 2 || rounds < 1)
        {
            return Usage($"--frames must be at least 2 and --rounds at least 1, got {frames} and {rounds}");
        }

        if (FrameSourceFactory.Validate(source) is { } problem)
        {
            return Usage($"--source: {problem}");
        }

        using var a = CliModel.Load("bench", modelA, threads, providers);
        using var b = a is null ? null : CliModel.Load("bench", modelB, threads, providers);
        if (a is null || b is null)
        {
            return ExitCodes.Config;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"A         {a.Model} on {a.Provider}");
        Console.WriteLine($"B         {b.Model} on {b.Provider}");
        Console.WriteLine($"source    {source}");
        Console.WriteLine($"threads   {(threads == 0 ? "all" : threads.ToString(inv))} ({Environment.ProcessorCount} cores), load average {LoadAverage()}");
        ComparisonResult r;
        try
        {
            r = ComparisonBenchmark.Run(a, b, () => FrameSourceFactory.Open(source), frames, rounds);
        }
        catch (FrameSourceException e)
        {
            Console.Error.WriteLine($"edgeseg bench: {e.Message}");
            return ExitCodes.Failure;
        }

        Console.WriteLine($"frames    {r.A.RawInference.Frames} per model and phase, in {r.Rounds} rounds of A B B A");
        Console.WriteLine();
        Console.WriteLine("model  phase                   fps     p50 ms   p95 ms");
        foreach (var (name, x) in new[] { ("A", r.A), ("B", r.B) })
        {
            Console.WriteLine(string.Format(inv, "{0,-6} raw inference (Run)  {1,7:0.00}  {2,8:0.00} {3,8:0.00}", name, x.RawInference.FramesPerSecond, x.RawInference.P50Ms, x.RawInference.P95Ms));
            Console.WriteLine(string.Format(inv, "{0,-6} whole pipeline       {1,7:0.00}  {2,8:0.00} {3,8:0.00}", name, x.Pipeline.FramesPerSecond, x.Pipeline.P50Ms, x.Pipeline.P95Ms));
        }

        Console.WriteLine();
        Console.WriteLine(string.Format(inv, "ratio B/A            raw {0:0.000}, whole pipeline {1:0.000}", r.RawRatio, r.PipelineRatio));
        Console.WriteLine($"load average         {LoadAverage()} (at the end)");
        return ExitCodes.Ok;
    }

    /// <summary>The 1-minute load average, for quoting beside a ratio ("n/a" where /proc is absent).</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static int Run(string source, int frames, string? model, int threads, ExecutionProvider[] providers)
    {
        if (frames < 1)
        {
            Console.Error.WriteLine($"edgeseg bench: --frames must be at least 1, got {frames}");
            return ExitCodes.Usage;
        }

        if (FrameSourceFactory.Validate(source) is { } problem)
        {
            Console.Error.WriteLine($"edgeseg bench: --source: {problem}");
            return ExitCodes.Usage;
        }

        var segmenter = CliModel.Load("bench", model, threads, providers);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        using (segmenter)
        {
            Console.WriteLine($"model     {segmenter.Model}");
            Console.WriteLine($"provider  {segmenter.Provider} ({(threads == 0 ? "all" : threads.ToString(CultureInfo.InvariantCulture))} threads, {Environment.ProcessorCount} cores)");
            Console.WriteLine($"source    {source}");
            ThroughputResult r;
            try
            {
                r = ThroughputBenchmark.Run(segmenter, () => FrameSourceFactory.Open(source), frames);
            }
            catch (FrameSourceException e)
            {
                Console.Error.WriteLine($"edgeseg bench: {e.Message}");
                return ExitCodes.Failure;
            }

            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"frames    {r.SourceWidth}x{r.SourceHeight} in, {segmenter.Model.Width}x{segmenter.Model.Height} model input, {frames} measured per phase");
            Console.WriteLine();
            Console.WriteLine("phase                   fps     p50 ms   p95 ms");
            Console.WriteLine(string.Format(inv, "raw inference (Run)  {0,7:0.00}  {1,8:0.00} {2,8:0.00}", r.RawInference.FramesPerSecond, r.RawInference.P50Ms, r.RawInference.P95Ms));
            Console.WriteLine(string.Format(inv, "whole pipeline       {0,7:0.00}  {1,8:0.00} {2,8:0.00}", r.Pipeline.FramesPerSecond, r.Pipeline.P50Ms, r.Pipeline.P95Ms));
            Console.WriteLine();
            Console.WriteLine(string.Format(inv, "ratio pipeline/raw   {0:0.000}", r.Ratio));
            Console.WriteLine(string.Format(
                inv,
                "stage means (ms)     decode {0:0.00} (own thread) | preprocess {1:0.00} | run {2:0.00} | argmax {3:0.00} | statistics {4:0.000}",
                r.DecodeMs, r.PreprocessMs, r.RunMs, r.ArgMaxMs, r.StatisticsMs));
            Console.WriteLine(string.Format(inv, "managed allocation   {0:0} bytes per frame once warm (whole process)", r.AllocatedBytesPerFrame));
            return ExitCodes.Ok;
        }
    }
}
