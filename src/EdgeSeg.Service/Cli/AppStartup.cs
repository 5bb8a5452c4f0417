using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Refinement;
using EdgeSeg.Service.Hosting;

namespace EdgeSeg.Service.Cli;

/// <summary>
/// What run and demo share: turning validated configuration into a loaded model, reporting a bad
/// configuration or model on stderr with exit code 78.
/// </summary>
internal static class AppStartup
{
    /// <summary>Loads and validates the configuration; on failure writes every problem and returns null (exit 78).</summary>
    public static LoadedConfiguration? LoadConfiguration(string path, TextWriter error)
    {
        try
        {
            return ConfigurationLoader.Load(path);
        }
        catch (ConfigurationException e)
        {
            ReportConfigurationErrors(e, error);
            return null;
        }
    }

    /// <summary>Loads the model the configuration names; on failure writes why and returns null.</summary>
    public static OnnxSegmenter? LoadModel(LoadedConfiguration config, TextWriter error)
    {
        var model = config.Options.Model;
        var providers = model.Providers.Count > 0 ? model.Providers : [ExecutionProvider.CPU];
        try
        {
            return OnnxSegmenter.Load(config.ModelPath, new InferenceOptions
            {
                Providers = providers,
                IntraOpThreads = model.Threads,
                DeviceId = model.DeviceId,
                EngineCacheDirectory = model.EngineCacheDirectory,
                TensorRtFp16 = model.TensorRT.Fp16,
                TensorRtInt8 = model.TensorRT.Int8,
                TensorRtWorkspaceBytes = model.TensorRT.WorkspaceMiB * (1L << 20),
                TensorRtOptimizationLevel = model.TensorRT.BuilderOptimizationLevel,
                TensorRtDlaCore = model.TensorRT.DlaCore,
            });
        }
        catch (ModelLoadException e)
        {
            error.WriteLine($"edgeseg: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Each camera's stages for the loaded model: a CRF refiner where one is enabled, and its zones, class
    /// groups, ground plane and occupancy rules resolved against the model's classes and input size. On a
    /// configuration error writes every problem and returns null (exit 78).
    /// </summary>
    public static CameraStages? Cameras(LoadedConfiguration config, OnnxSegmenter segmenter, TextWriter error, TextWriter? log = null)
    {
        IReadOnlyList<CameraAreas> areas;
        try
        {
            areas = AreaConfiguration.Build(config.Options, segmenter.Model.Labels, segmenter.Model.Width, segmenter.Model.Height, log is null ? null : log.WriteLine);
        }
        catch (ConfigurationException e)
        {
            ReportConfigurationErrors(e, error);
            return null;
        }

        // AreaConfiguration.Build answers for every camera of the configuration, in its order.
        return new CameraStages([.. config.Options.Cameras.Zip(areas, (camera, measured) => new CameraDefinition(
            camera.Name,
            camera.Source,
            camera.MaxFps,
            camera.Refinement is { Enabled: true } r ? new RefinementStage(new BilateralCrfRefiner(r), TimeSpan.FromMilliseconds(r.BudgetMs)) : null,
            measured))]);
    }

    public static void ReportConfigurationErrors(ConfigurationException e, TextWriter error)
    {
        error.WriteLine("edgeseg: invalid configuration:");
        foreach (var line in e.Errors)
        {
            error.WriteLine($"  {line}");
        }
    }
}
