using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>
/// Joins what the manifest says with what the model declares, and rejects a model whose tensors the
/// appliance cannot feed or read. Each problem is reported with the file and the tensor it concerns.
/// </summary>
internal static class ModelResolver
{
    // ImageNet statistics in RGB order: what torchvision's DeepLabV3 weights were trained with.
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    public static ModelDescription Resolve(string path, InferenceSession session, ModelManifest? manifest)
    {
        var mi = manifest?.Input;
        var mo = manifest?.Output;

        var inputName = PickTensor(path, "input", session.InputMetadata.Keys.ToList(), mi?.Name, preferred: null);
        var input = session.InputMetadata[inputName];
        var dims = input.Dimensions;
        if (!input.IsTensor || dims.Length != 4)
        {
            throw new ModelLoadException(path, $"input '{inputName}' has shape {Shape(dims)}; expected an image tensor of rank 4 (NCHW or NHWC)");
        }

        var layout = mi?.Layout ?? (dims[1] == 3 ? TensorLayout.NCHW : dims[3] == 3 ? TensorLayout.NHWC
            : throw new ModelLoadException(path, $"input '{inputName}' has shape {Shape(dims)}: no 3-channel axis; set Input.Layout in the manifest"));
        var (hAxis, wAxis, cAxis) = layout == TensorLayout.NCHW ? (2, 3, 1) : (1, 2, 3);
        if (dims[cAxis] is not (3 or -1))
        {
            throw new ModelLoadException(path, $"input '{inputName}' has shape {Shape(dims)}: {layout} needs 3 channels on axis {cAxis}");
        }

        var width = SpatialSize(path, inputName, "Width", dims[wAxis], mi?.Width);
        var height = SpatialSize(path, inputName, "Height", dims[hAxis], mi?.Height);

        var elementType = input.ElementDataType switch
        {
            TensorElementType.Float => InputElementType.Float32,
            TensorElementType.UInt8 => InputElementType.UInt8,
            var other => throw new ModelLoadException(path, $"input '{inputName}' is {other}; supported: float32 or uint8"),
        };
        if (mi?.ElementType is { } declared && declared != elementType)
        {
            throw new ModelLoadException(path, $"manifest says Input.ElementType {declared} but the model's input '{inputName}' is {elementType}");
        }

        var isFloat = elementType == InputElementType.Float32;
        var mean = ThreeValues(path, "Input.Mean", mi?.Mean) ?? (isFloat ? ImageNetMean : [0f, 0f, 0f]);
        var std = ThreeValues(path, "Input.Std", mi?.Std) ?? (isFloat ? ImageNetStd : [1f, 1f, 1f]);
        if (std.Any(s => s <= 0f))
        {
            throw new ModelLoadException(path, "Input.Std values must be positive");
        }

        var scale = mi?.Scale ?? (isFloat ? 255f : 1f);
        if (scale <= 0f)
        {
            throw new ModelLoadException(path, "Input.Scale must be positive");
        }

        var outputName = PickTensor(path, "output", session.OutputMetadata.Keys.ToList(), mo?.Name, preferred: "out");
        var output = session.OutputMetadata[outputName];
        var odims = output.Dimensions;
        var kind = output.ElementDataType switch
        {
            TensorElementType.Float => OutputKind.Logits,
            TensorElementType.Int64 or TensorElementType.Int32 or TensorElementType.UInt8 => OutputKind.Labels,
            var other => throw new ModelLoadException(path, $"output '{outputName}' is {other}; expected float logits or integer labels"),
        };
        if (mo?.Kind is { } declaredKind && declaredKind != kind)
        {
            throw new ModelLoadException(path, $"manifest says Output.Kind {declaredKind} but output '{outputName}' is {output.ElementDataType}");
        }

        long[] shape;
        int classes;
        if (kind == OutputKind.Logits)
        {
            if (odims.Length != 4 || odims[0] is not (1 or -1) || odims[1] <= 0)
            {
                throw new ModelLoadException(path, $"output '{outputName}' has shape {Shape(odims)} (rank {odims.Length}); expected logits [1, classes, height, width]");
            }

            classes = odims[1];
            shape = [1, classes, Resolved(odims[2], height), Resolved(odims[3], width)];
        }
        else
        {
            shape = odims.Length switch
            {
                2 => [Resolved(odims[0], height), Resolved(odims[1], width)],
                3 when odims[0] is 1 or -1 => [1, Resolved(odims[1], height), Resolved(odims[2], width)],
                4 when odims[0] is 1 or -1 && odims[1] is 1 or -1 => [1, 1, Resolved(odims[2], height), Resolved(odims[3], width)],
                _ => throw new ModelLoadException(path, $"output '{outputName}' has shape {Shape(odims)} (rank {odims.Length}); expected labels [1, height, width]"),
            };
            classes = -1;
        }

        if (classes > 255)
        {
            throw new ModelLoadException(path, $"output '{outputName}' has {classes} classes; at most 255 are supported");
        }

        var labels = ResolveLabels(path, manifest, session.ModelMetadata.CustomMetadataMap, classes);
        return new ModelDescription
        {
            Path = path,
            Name = manifest?.Name ?? Path.GetFileNameWithoutExtension(path),
            Architecture = manifest?.Architecture,
            InputName = inputName,
            Layout = layout,
            Width = width,
            Height = height,
            ElementType = elementType,
            ColorOrder = mi?.ColorOrder ?? ColorOrder.RGB,
            Mean = mean,
            Std = std,
            Scale = scale,
            OutputName = outputName,
            OutputKind = kind,
            OutputShape = shape,
            OutputHeight = (int)shape[^2],
            OutputWidth = (int)shape[^1],
            Labels = labels,
            OutputStride = manifest?.OutputStride,
            AsppRates = manifest?.AsppRates,
        };
    }

    private static string PickTensor(string path, string what, IReadOnlyList<string> names, string? wanted, string? preferred)
    {
        if (wanted is not null)
        {
            return names.Contains(wanted)
                ? wanted
                : throw new ModelLoadException(path, $"manifest names {what} '{wanted}', but the model's {what}s are: {string.Join(", ", names)}");
        }

        if (names.Count == 1)
        {
            return names[0];
        }

        if (preferred is not null && names.Contains(preferred))
        {
            return preferred;
        }

        throw new ModelLoadException(path, $"the model has {names.Count} {what}s ({string.Join(", ", names)}); name one in the manifest");
    }

    private static int SpatialSize(string path, string tensor, string key, int declared, int? manifest)
    {
        if (manifest is { } m)
        {
            if (m <= 0 || m > 8192)
            {
                throw new ModelLoadException(path, $"Input.{key} must be 1..8192, got {m}");
            }

            if (declared > 0 && declared != m)
            {
                throw new ModelLoadException(path, $"manifest says Input.{key} {m} but input '{tensor}' is fixed at {declared}");
            }

            return m;
        }

        return declared > 0
            ? declared
            : throw new ModelLoadException(path, $"input '{tensor}' has a dynamic {key.ToLowerInvariant()}; set Input.{key} in the manifest");
    }

    private static long Resolved(int declared, int fallback) => declared > 0 ? declared : fallback;

    private static float[]? ThreeValues(string path, string key, IReadOnlyList<float>? values)
    {
        if (values is null)
        {
            return null;
        }

        return values.Count == 3 ? [.. values] : throw new ModelLoadException(path, $"{key} needs 3 values, got {values.Count}");
    }

    private static LabelSet ResolveLabels(string path, ModelManifest? manifest, Dictionary<string, string> metadata, int classes)
    {
        var names = manifest?.Classes;
        if (names is null && metadata.TryGetValue("classes", out var csv))
        {
            names = csv.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        var setName = manifest?.LabelSet ?? (metadata.TryGetValue("labelset", out var meta) ? meta : null);
        var builtIn = setName is null ? null : LabelSet.FindBuiltIn(setName);
        if (names is null)
        {
            builtIn ??= classes switch
            {
                19 => LabelSet.Cityscapes,
                21 => LabelSet.PascalVoc,
                _ => null,
            };
            if (builtIn is null)
            {
                throw new ModelLoadException(
                    path,
                    classes > 0
                        ? $"the model has {classes} classes and no class names; set Classes (or LabelSet) in the manifest"
                        : "the model outputs labels but names no label set; set LabelSet or Classes in the manifest");
            }

            names = builtIn.ClassNames;
        }

        if (classes > 0 && names.Count != classes)
        {
            throw new ModelLoadException(path, $"{names.Count} class names for an output of {classes} classes");
        }

        IReadOnlyList<Rgb> palette;
        if (manifest?.Palette is { } p)
        {
            if (p.Count != names.Count || p.Any(c => c.Count != 3 || c.Any(v => v is < 0 or > 255)))
            {
                throw new ModelLoadException(path, $"Palette needs {names.Count} [r, g, b] triplets of 0..255");
            }

            palette = [.. p.Select(c => new Rgb((byte)c[0], (byte)c[1], (byte)c[2]))];
        }
        else if (builtIn is not null && builtIn.Count == names.Count)
        {
            palette = builtIn.Palette;
        }
        else
        {
            palette = [.. Enumerable.Range(0, names.Count).Select(GeneratedColour)];
        }

        var name = setName ?? builtIn?.Name ?? "custom";
        return new LabelSet(name, names, palette);
    }

    /// <summary>Well-spread colours for models that bring no palette: hue steps of the golden angle.</summary>
    private static Rgb GeneratedColour(int index)
    {
        var hue = index * 137.508 % 360.0 / 60.0;
        var x = 1 - Math.Abs(hue % 2 - 1);
        var (r, g, b) = (int)hue switch
        {
            0 => (1.0, x, 0.0),
            1 => (x, 1.0, 0.0),
            2 => (0.0, 1.0, x),
            3 => (0.0, x, 1.0),
            4 => (x, 0.0, 1.0),
            _ => (1.0, 0.0, x),
        };
        return new Rgb((byte)(55 + 200 * r), (byte)(55 + 200 * g), (byte)(55 + 200 * b));
    }

    private static string Shape(int[] dims) =>
        "[" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";
}
