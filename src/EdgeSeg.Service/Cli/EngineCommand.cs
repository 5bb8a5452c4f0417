using System.CommandLine;
using System.Globalization;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Service.Configuration;

namespace EdgeSeg.Service.Cli;

/// <summary>
/// <c>edgeseg engine build</c>: builds the TensorRT engine for the configured model ahead of time, into
/// <c>Model.EngineCacheDirectory</c>, so that the service's first start on a Jetson does not spend minutes
/// building it (and the systemd start timeout does not run out while it does).
/// </summary>
internal static class EngineCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c")
        {
            Description = "Configuration file whose Model section names the model, providers and TensorRT settings",
            DefaultValueFactory = _ => ConfigurationLoader.DefaultPath,
        };
        var build = new Command("build", "Build and cache the TensorRT engine (and timing cache) for the configured model")
        {
            config,
        };
        build.SetAction(parse => Build(parse.GetValue(config)!));
        return new Command("engine", "TensorRT engine tools") { build };
    }

    private static int Build(string configPath)
    {
        if (AppStartup.LoadConfiguration(configPath, Console.Error) is not { } config)
        {
            return ExitCodes.Config;
        }

        var model = config.Options.Model;
        var wantsTensorRt = model.Providers.Contains(ExecutionProvider.TensorRT);
        Console.WriteLine($"model      {config.ModelPath}");
        Console.WriteLine($"providers  {string.Join(" ▸ ", model.Providers.Count > 0 ? model.Providers : [ExecutionProvider.CPU])}");
        if (wantsTensorRt)
        {
            var t = model.TensorRT;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tensorrt   fp16 {t.Fp16}, int8 {t.Int8}, workspace {t.WorkspaceMiB} MiB, builder level {t.BuilderOptimizationLevel}, {(t.DlaCore >= 0 ? $"DLA core {t.DlaCore}" : "GPU")}"));
            Console.WriteLine($"cache      {model.EngineCacheDirectory}");
        }

        using var segmenter = AppStartup.LoadModel(config, Console.Error);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        foreach (var line in segmenter.ProviderAttempts)
        {
            Console.WriteLine($"  {line}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first run  {segmenter.WarmUpTime.TotalSeconds:0.0} s on {segmenter.Provider}"));
        if (!wantsTensorRt)
        {
            Console.WriteLine("no engine to build: TensorRT is not among Model.Providers");
            return ExitCodes.Ok;
        }

        if (segmenter.Provider != ExecutionProvider.TensorRT)
        {
            Console.Error.WriteLine($"edgeseg engine build: TensorRT could not run the model here (see above); the service would run it on {segmenter.Provider}");
            return ExitCodes.Unavailable;
        }

        Console.WriteLine($"engine built and cached under {model.EngineCacheDirectory}; the service's next start loads it");
        return ExitCodes.Ok;
    }
}
