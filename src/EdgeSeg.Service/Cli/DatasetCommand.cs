using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg dataset render</c>: writes synthetic image/label pairs for training and evaluation.</summary>
internal static class DatasetCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Number of samples to write.", Required = true };
        var size = new Option<string>("--size") { Description = "Image size as WIDTHxHEIGHT.", DefaultValueFactory = _ => "1024x512" };
        var seed = new Option<long>("--seed") { Description = "Dataset seed; different seeds share no scene.", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output directory (images/ and labels/ are created in it).", Required = true };
        var first = new Option<int>("--first") { Description = "Index of the first sample, to extend a dataset.", DefaultValueFactory = _ => 0 };
        var jobs = new Option<int>("--jobs") { Description = "Render threads; the output does not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };

        var render = new Command("render", "Render street scenes with exact Cityscapes train-id labels.")
        {
            count, size, seed, output, first, jobs,
        };
        render.SetAction(parseResult =>
        {
            var n = parseResult.GetValue(count);
            if (n < 0)
            {
                Console.Error.WriteLine("edgeseg dataset render: --count must be 0 or more");
                return ExitCodes.Usage;
            }

            if (!TryParseSize(parseResult.GetValue(size) ?? string.Empty, out var width, out var height, out var error))
            {
                Console.Error.WriteLine($"edgeseg dataset render: --size: {error}");
                return ExitCodes.Usage;
            }

            var dir = parseResult.GetValue(output)!.FullName;
            var writer = new DatasetWriter(width, height, parseResult.GetValue(seed));
            var watch = Stopwatch.StartNew();
            var written = writer.Write(dir, n, parseResult.GetValue(first), parseResult.GetValue(jobs));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {written} samples ({width}x{height}, seed {writer.Seed}) to {dir} in {watch.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });

        return new Command("dataset", "Synthetic training and evaluation data.") { render, DatasetZonesCommand.Create() };
    }

    internal static bool TryParseSize(string text, out int width, out int height, out string error) =>
        SyntheticFrameSource.TryParseSize(text, out width, out height, out error);
}
