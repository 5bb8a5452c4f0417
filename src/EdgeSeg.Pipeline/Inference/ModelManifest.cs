using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>
/// The JSON file beside a model (<c>model.onnx</c> → <c>model.json</c>) that says how to feed it and read
/// it. Every key is optional: what it leaves out is read from the model itself (input name, layout, size,
/// element type, output kind, class count) or takes the convention of the model's family (torchvision:
/// float RGB with ImageNet mean/std; TF zoo: uint8 RGB as is). Unknown keys are errors.
/// </summary>
public sealed class ModelManifest
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    public string? Name { get; init; }

    public string? Architecture { get; init; }

    public ManifestInput? Input { get; init; }

    public ManifestOutput? Output { get; init; }

    /// <summary>"cityscapes", "pascal-voc", or a name of the model's own when <see cref="Classes"/> is given.</summary>
    public string? LabelSet { get; init; }

    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>RGB triplets, one per class.</summary>
    public IReadOnlyList<IReadOnlyList<int>>? Palette { get; init; }

    /// <summary>Informational: the network's output stride (16 or 8 for DeepLabV3).</summary>
    public int? OutputStride { get; init; }

    /// <summary>Informational: dilation rates of the ASPP branches.</summary>
    public IReadOnlyList<int>? AsppRates { get; init; }

    /// <summary>Informational: the DeepLabV3+ decoder, when the model has one.</summary>
    public ManifestDecoder? Decoder { get; init; }

    /// <summary>How an INT8 model was made from its float original (written by <c>edgeseg quantize</c>); informational.</summary>
    public JsonElement? Quantization { get; init; }

    /// <summary>Free-form notes; ignored by the appliance.</summary>
    public JsonElement? Notes { get; init; }

    /// <summary>How the model was trained (data, iterations, time, validation score); informational.</summary>
    public JsonElement? Training { get; init; }

    /// <summary>The manifest path for a model path: same name, extension .json.</summary>
    public static string PathFor(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>Reads the manifest beside <paramref name="modelPath"/>, or null when there is none.</summary>
    public static ModelManifest? LoadBeside(string modelPath)
    {
        var path = PathFor(modelPath);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<ModelManifest>(stream, Options)
                   ?? throw new ModelLoadException(path, "the manifest is empty (null)");
        }
        catch (JsonException e)
        {
            var where = e.Path is null ? string.Empty : $" at {e.Path}";
            throw new ModelLoadException(path, $"invalid manifest{where}: {e.Message}");
        }
    }
}

/// <summary>The DeepLabV3+ decoder: the stride of the low-level features it joins, and its widths.</summary>
public sealed class ManifestDecoder
{
    public int? Stride { get; init; }

    public int? SkipChannels { get; init; }

    public int? Channels { get; init; }
}

/// <summary>How the model's input is laid out and normalised.</summary>
public sealed class ManifestInput
{
    public string? Name { get; init; }

    public TensorLayout? Layout { get; init; }

    public int? Width { get; init; }

    public int? Height { get; init; }

    public InputElementType? ElementType { get; init; }

    public ColorOrder? ColorOrder { get; init; }

    /// <summary>Per-channel mean subtracted after dividing by <see cref="Scale"/>, in the model's colour order.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>Pixel values 0..255 are divided by this before mean/std (255 for torchvision, 1 for raw).</summary>
    public float? Scale { get; init; }
}

/// <summary>Which output to read and what it holds.</summary>
public sealed class ManifestOutput
{
    public string? Name { get; init; }

    public OutputKind? Kind { get; init; }
}

/// <summary>Order of dimensions of an image tensor (batch first).</summary>
public enum TensorLayout
{
    NCHW,
    NHWC,
}

/// <summary>Element type of the model's input.</summary>
public enum InputElementType
{
    Float32,
    UInt8,
}

/// <summary>Channel order the model expects.</summary>
public enum ColorOrder
{
    RGB,
    BGR,
}

/// <summary>What the model outputs: per-class scores to argmax, or class ids ready to use.</summary>
public enum OutputKind
{
    Logits,
    Labels,
}

/// <summary>A model or its manifest cannot be used; the message names the file and the problem.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string path, string problem, Exception? inner = null)
        : base($"model file '{path}': {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    public ModelLoadException()
    {
        FilePath = string.Empty;
        Problem = string.Empty;
    }

    public ModelLoadException(string message)
        : base(message)
    {
        FilePath = string.Empty;
        Problem = message;
    }

    public ModelLoadException(string message, Exception inner)
        : base(message, inner)
    {
        FilePath = string.Empty;
        Problem = message;
    }

    public string FilePath { get; }

    public string Problem { get; }
}
