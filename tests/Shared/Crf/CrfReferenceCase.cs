using System.Runtime.InteropServices;
using EdgeSeg.Pipeline.Evaluation;
using OpenCvSharp;

namespace EdgeSeg.Tests.Shared;

/// <summary>
/// One case of <c>shared/reference/crf</c>: a 512x256 frame (BGR, as the pipeline passes it), its
/// ground truth, the coarse logits (NCHW 1x19x32x64) and the labels of the reference dense CRF; and
/// the scores of a labelling of it with the project's own metrics (<see cref="ConfusionMatrix"/>,
/// <see cref="BoundaryBand"/>). Test and benchmark support: linked into the tests and the benchmarks,
/// never part of the appliance.
/// </summary>
internal sealed class CrfReferenceCase
{
    public const int Classes = 19;
    public const int ScoreHeight = 32;
    public const int ScoreWidth = 64;

    /// <summary>
    /// Environment variable naming the shared directory (the one that holds reference/crf). Point it at
    /// another folder of the same layout to run the tests and the benchmark on another reference set.
    /// </summary>
    public const string SharedDirVariable = "EDGESEG_SHARED_DIR";

    private readonly Dictionary<int, byte[]> _bands = [];

    private CrfReferenceCase(string name, int width, int height, byte[] imageBgr, float[] logits, byte[] truth, byte[] reference, byte[] rawArgmax)
    {
        Name = name;
        Width = width;
        Height = height;
        ImageBgr = imageBgr;
        Logits = logits;
        Truth = truth;
        Reference = reference;
        RawArgmax = rawArgmax;
    }

    public string Name { get; }

    public int Width { get; }

    public int Height { get; }

    public byte[] ImageBgr { get; }

    public float[] Logits { get; }

    public byte[] Truth { get; }

    /// <summary>Labels of the reference CRF (10 iterations).</summary>
    public byte[] Reference { get; }

    /// <summary>Argmax of the unary, as the reference computed it.</summary>
    public byte[] RawArgmax { get; }

    /// <summary>Share of pixels on which two label maps of one size agree.</summary>
    public static double Agreement(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length || a.Length == 0)
        {
            throw new ArgumentException($"label maps of {a.Length} and {b.Length} pixels", nameof(b));
        }

        long same = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i])
            {
                same++;
            }
        }

        return (double)same / a.Length;
    }

    /// <summary>Mean IoU of <paramref name="labels"/> against the truth, over the classes in the truth.</summary>
    public double MeanIoU(ReadOnlySpan<byte> labels)
    {
        var matrix = new ConfusionMatrix(Classes);
        matrix.Add(Truth, labels);
        return matrix.MeanIoU();
    }

    /// <summary>Accuracy of <paramref name="labels"/> within <paramref name="bandWidth"/> px of a truth boundary (trimap).</summary>
    public double TrimapAccuracy(ReadOnlySpan<byte> labels, int bandWidth)
    {
        if (!_bands.TryGetValue(bandWidth, out var band))
        {
            band = new byte[Truth.Length];
            BoundaryBand.Compute(Truth, Width, Height, bandWidth, band);
            _bands[bandWidth] = band;
        }

        return BoundaryBand.Accuracy(Truth, labels, band, Classes);
    }

    /// <summary>
    /// Finds <c>reference/crf</c>: under $EDGESEG_SHARED_DIR if set, else by walking up from
    /// <paramref name="start"/> looking for <c>shared/reference/crf</c> (the repository's own
    /// <c>shared/</c>, or the <c>../shared</c> checked out beside it). Null when absent.
    /// </summary>
    public static string? Locate(string start)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(SharedDirVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            var candidate = Path.Combine(fromEnvironment, "reference", "crf");
            return Directory.Exists(candidate) ? candidate : null;
        }

        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference", "crf");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static IReadOnlyList<CrfReferenceCase> LoadAll(string directory) =>
        Directory.GetDirectories(directory, "case*")
            .Order(StringComparer.Ordinal)
            .Select(Load)
            .ToList();

    public static CrfReferenceCase Load(string caseDirectory)
    {
        using var image = Cv2.ImRead(Path.Combine(caseDirectory, "image.png"), ImreadModes.Color);
        if (image.Empty())
        {
            throw new FileNotFoundException("cannot read the case image", Path.Combine(caseDirectory, "image.png"));
        }

        var width = image.Width;
        var height = image.Height;
        var bgr = new byte[width * height * 3];
        using (var packed = image.IsContinuous() ? null : image.Clone())
        {
            Marshal.Copy((packed ?? image).Data, bgr, 0, bgr.Length);
        }

        var bytes = File.ReadAllBytes(Path.Combine(caseDirectory, "logits_1x19x32x64.f32"));
        var logits = new float[Classes * ScoreHeight * ScoreWidth];
        if (bytes.Length != logits.Length * sizeof(float))
        {
            throw new InvalidDataException($"{caseDirectory}: logits file has {bytes.Length} bytes, expected {logits.Length * sizeof(float)}");
        }

        Buffer.BlockCopy(bytes, 0, logits, 0, bytes.Length);
        return new CrfReferenceCase(
            Path.GetFileName(caseDirectory), width, height, bgr, logits,
            ReadLabels(Path.Combine(caseDirectory, "gt.png"), width, height),
            ReadLabels(Path.Combine(caseDirectory, "densecrf.png"), width, height),
            ReadLabels(Path.Combine(caseDirectory, "raw_argmax.png"), width, height));
    }

    private static byte[] ReadLabels(string path, int width, int height)
    {
        // Unchanged: label PNGs are single-channel 8-bit; any conversion would alter the ids.
        using var mat = Cv2.ImRead(path, ImreadModes.Unchanged);
        if (mat.Empty() || mat.Width != width || mat.Height != height || mat.Type() != MatType.CV_8UC1)
        {
            throw new InvalidDataException($"{path}: expected a {width}x{height} 8-bit label image");
        }

        var labels = new byte[width * height];
        Marshal.Copy(mat.Data, labels, 0, labels.Length);
        return labels;
    }
}
