namespace EdgeSeg.Pipeline.Inference;

/// <summary>ONNX Runtime execution providers, tried in the configured order.</summary>
public enum ExecutionProvider
{
    TensorRT,
    CUDA,
    CPU,
}

/// <summary>How the model session is created.</summary>
public sealed class InferenceOptions
{
    /// <summary>Providers to try, best first; the first that loads the model and survives a warm-up run wins.</summary>
    public IReadOnlyList<ExecutionProvider> Providers { get; init; } = [ExecutionProvider.CPU];

    /// <summary>Threads inside one operator on the CPU provider; 0 lets ONNX Runtime use every core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>GPU ordinal for CUDA and TensorRT.</summary>
    public int DeviceId { get; init; }

    /// <summary>Where TensorRT keeps built engines and timing caches (builds take minutes on Jetson).</summary>
    public string? EngineCacheDirectory { get; init; }

    /// <summary>Let TensorRT run layers in FP16.</summary>
    public bool TensorRtFp16 { get; init; } = true;

    /// <summary>Let TensorRT run INT8 layers of a QDQ model.</summary>
    public bool TensorRtInt8 { get; init; } = true;

    /// <summary>TensorRT's workspace, in bytes.</summary>
    public long TensorRtWorkspaceBytes { get; init; } = 1L << 30;

    /// <summary>TensorRT builder optimisation level, 0..5.</summary>
    public int TensorRtOptimizationLevel { get; init; } = 3;

    /// <summary>DLA core for the TensorRT engine, or -1 for the GPU.</summary>
    public int TensorRtDlaCore { get; init; } = -1;
}
