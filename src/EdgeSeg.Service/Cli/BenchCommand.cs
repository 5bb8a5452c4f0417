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
        var model = new Option<string>("--model", "-m") { Description = "ONNX model (default: the bundled one)" };
        var threads = new Option<int>("--threads") { Description = "Model CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var provider = new Option<ExecutionProvider[]>("--provider")
        {
            Description = "Execution providers to try, best first",
            DefaultValueFactory = _ => [ExecutionProvider.CPU],
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("bench", "Measure raw inference and whole-pipeline throughput side by side")
        {
            source, frames, model, threads, provider,
        };
        command.SetAction(parse => Run(
            parse.GetValue(source)!, parse.GetValue(frames), parse.GetValue(model), parse.GetValue(threads), parse.GetValue(provider)!));
        return command;
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
