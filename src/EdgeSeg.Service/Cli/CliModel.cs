using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Service.Configuration;

namespace EdgeSeg.Service.Cli;

/// <summary>What the tool verbs share: loading the model named by --model and opening --source.</summary>
internal static class CliModel
{
    /// <summary>Loads the model (default: the bundled one) on the CPU; writes why and returns null on failure.</summary>
    public static OnnxSegmenter? Load(string verb, string? model, int threads = 0, IReadOnlyList<ExecutionProvider>? providers = null)
    {
        var path = EdgeSegOptionsValidator.ResolveModelPath(model ?? string.Empty, Directory.GetCurrentDirectory());
        try
        {
            return OnnxSegmenter.Load(path, new InferenceOptions { IntraOpThreads = threads, Providers = providers ?? [ExecutionProvider.CPU] });
        }
        catch (ModelLoadException e)
        {
            Console.Error.WriteLine($"edgeseg {verb}: {e.Message}");
            return null;
        }
    }

    /// <summary>Opens a source URI, or a dataset folder (images/ + labels/); writes why and returns null on failure.</summary>
    public static IFrameSource? Open(string verb, string source)
    {
        try
        {
            if (Directory.Exists(source))
            {
                return new LabeledImageFolderSource(source);
            }

            if (FrameSourceFactory.Validate(source) is { } problem)
            {
                Console.Error.WriteLine($"edgeseg {verb}: --source: {problem}");
                return null;
            }

            return FrameSourceFactory.Open(source);
        }
        catch (FrameSourceException e)
        {
            Console.Error.WriteLine($"edgeseg {verb}: {e.Message}");
            return null;
        }
    }
}
