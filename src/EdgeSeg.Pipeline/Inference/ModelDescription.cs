namespace EdgeSeg.Pipeline.Inference;

/// <summary>
/// Everything needed to feed a model and read its answer, resolved from the manifest and the model's
/// own metadata. Immutable once loaded.
/// </summary>
public sealed class ModelDescription
{
    public required string Path { get; init; }

    public required string Name { get; init; }

    public string? Architecture { get; init; }

    public required string InputName { get; init; }

    public required TensorLayout Layout { get; init; }

    public required int Width { get; init; }

    public required int Height { get; init; }

    public required InputElementType ElementType { get; init; }

    public required ColorOrder ColorOrder { get; init; }

    /// <summary>Per-channel mean in the model's colour order.</summary>
    public required float[] Mean { get; init; }

    public required float[] Std { get; init; }

    public required float Scale { get; init; }

    public required string OutputName { get; init; }

    public required OutputKind OutputKind { get; init; }

    /// <summary>Output shape as the model declares it (batch first).</summary>
    public required long[] OutputShape { get; init; }

    /// <summary>Size of the label map the model gives (the output's spatial size).</summary>
    public required int OutputWidth { get; init; }

    public required int OutputHeight { get; init; }

    public required LabelSet Labels { get; init; }

    public int? OutputStride { get; init; }

    public IReadOnlyList<int>? AsppRates { get; init; }

    /// <summary>One line for logs: name, sizes, kinds.</summary>
    public override string ToString() =>
        $"{Name} ({Layout} {ElementType} {Width}x{Height} {ColorOrder} → {OutputKind} {OutputWidth}x{OutputHeight}, " +
        $"{Labels.Count} classes, {Labels.Name})";
}
