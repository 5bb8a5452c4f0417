using System.Globalization;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// Parameters of the fully connected CRF (Krähenbühl &amp; Koltun 2011) as DeepLab v1/v2 and
/// pydensecrf name them, in the same units: distances in pixels of the full-resolution frame,
/// colour differences in 0..255 intensity levels. The defaults are the reference defaults
/// (w1 = 10, θα = 80, θβ = 13, w2 = 3, θγ = 3).
/// </summary>
/// <remarks>
/// Pairwise energy between pixels i and j with different labels (Potts compatibility):
/// <c>w1·exp(−|pi−pj|²/2θα² − |Ii−Ij|²/2θβ²) + w2·exp(−|pi−pj|²/2θγ²)</c>, each kernel symmetrically
/// normalised as in the reference implementation.
/// </remarks>
public record CrfOptions
{
    /// <summary>Largest accepted number of mean-field iterations.</summary>
    public const int MaxIterations = 50;

    /// <summary>Largest accepted <see cref="WorkingScale"/>.</summary>
    public const int MaxWorkingScale = 4;

    /// <summary>Weight w1 of the appearance (bilateral) kernel. Default 10.</summary>
    public float AppearanceWeight { get; init; } = 10f;

    /// <summary>Spatial standard deviation θα of the appearance kernel, in pixels. Default 80.</summary>
    public float AppearanceSpatialSigma { get; init; } = 80f;

    /// <summary>
    /// Colour standard deviation θβ of the appearance kernel, in 0..255 intensity levels per channel.
    /// Default 13.
    /// </summary>
    public float AppearanceColorSigma { get; init; } = 13f;

    /// <summary>Weight w2 of the smoothness (spatial Gaussian) kernel. Default 3.</summary>
    public float SmoothnessWeight { get; init; } = 3f;

    /// <summary>Spatial standard deviation θγ of the smoothness kernel, in pixels. Default 3.</summary>
    public float SmoothnessSpatialSigma { get; init; } = 3f;

    /// <summary>
    /// Mean-field iterations (parallel updates, starting from the softmax of the unary). Default 5:
    /// on the shared reference cases 5 iterations already agree with 10 on almost every pixel, at
    /// half the cost. DeepLab used 10.
    /// </summary>
    public int Iterations { get; init; } = 5;

    /// <summary>
    /// Sampling step, in pixels, of the grid on which all but the last mean-field iteration run
    /// (1 = every pixel, 2 = every other pixel in x and y). The last iteration always updates every
    /// pixel of the frame, slicing the appearance lattice at each pixel's own colour, so edges stay
    /// pixel-sharp; the coarse grid only carries the intermediate beliefs, which vary on the scale of
    /// θα (80 px) and θγ (3 px). Default 3: on the shared reference cases it keeps the accuracy of
    /// step 2 (trimap-2 0.948, agreement 99.8%) at about half the grid work; step 4 starts to lose
    /// boundary accuracy (trimap-2 0.941).
    /// </summary>
    public int WorkingScale { get; init; } = 3;

    /// <summary>
    /// Classes whose softmax probability stays below this value on every sampled pixel of a frame are
    /// dropped from that frame's inference (they get label never, probability 0). 0 keeps every
    /// class. Default 1e-4.
    /// </summary>
    public float ClassPruningThreshold { get; init; } = 1e-4f;

    /// <summary>
    /// The last (full-resolution) update runs first on the pixels of the working grid. A pixel
    /// between them whose four surrounding grid pixels all chose the same class, each with a score
    /// (log-probability) lead of at least this over the runner-up, and whose colour is within
    /// <see cref="CopyColorTolerance"/> of all four, takes that class without its own update: its
    /// logits, smoothness message and position vary too little over a grid cell to overturn such
    /// a lead, and its appearance message differs from theirs only through its colour. Edges,
    /// thin structures of another colour and uncertain regions are still updated pixel by pixel.
    /// 0 updates every pixel. Ignored when probabilities are requested. Default 2.
    /// </summary>
    public float CopyMargin { get; init; } = 2f;

    /// <summary>
    /// Largest difference per colour channel, in 0..255 intensity levels, between a pixel and the
    /// four grid pixels around it for it to take their label (see <see cref="CopyMargin"/>). Default 16:
    /// on the shared reference cases 76% of the pixels are copied and every label is the same as with
    /// every pixel updated; at 24, 78% are copied and 0.006% of the labels differ.
    /// </summary>
    public int CopyColorTolerance { get; init; } = 16;

    /// <summary>Lists every invalid parameter, each message naming its property; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckPositive(errors, nameof(AppearanceWeight), AppearanceWeight, allowZero: true);
        CheckRange(errors, nameof(AppearanceSpatialSigma), AppearanceSpatialSigma, 1f, 10_000f, "pixels");
        CheckRange(errors, nameof(AppearanceColorSigma), AppearanceColorSigma, 1f, 1_000f, "intensity levels (0..255 scale)");
        CheckPositive(errors, nameof(SmoothnessWeight), SmoothnessWeight, allowZero: true);
        CheckRange(errors, nameof(SmoothnessSpatialSigma), SmoothnessSpatialSigma, 0.1f, 100f, "pixels");
        if (Iterations is < 1 or > MaxIterations)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Iterations)}: must be 1..{MaxIterations}, got {Iterations}"));
        }

        if (WorkingScale is < 1 or > MaxWorkingScale)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(WorkingScale)}: must be 1..{MaxWorkingScale} pixels, got {WorkingScale}"));
        }

        if (!(ClassPruningThreshold >= 0f && ClassPruningThreshold < 0.05f))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ClassPruningThreshold)}: must be in [0, 0.05) (a probability; 0 disables pruning), got {ClassPruningThreshold}"));
        }

        if (!(CopyMargin >= 0f && CopyMargin <= 1_000f))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(CopyMargin)}: must be in [0, 1000] (a log-probability lead; 0 updates every pixel), got {CopyMargin}"));
        }

        if (CopyColorTolerance is < 0 or > 255)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(CopyColorTolerance)}: must be 0..255 intensity levels, got {CopyColorTolerance}"));
        }

        return errors;
    }

    private static void CheckPositive(List<string> errors, string name, float value, bool allowZero)
    {
        if (!float.IsFinite(value) || value < 0f || (!allowZero && value == 0f) || value > 1_000f)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: must be a finite weight in [0, 1000], got {value}"));
        }
    }

    private static void CheckRange(List<string> errors, string name, float value, float min, float max, string unit)
    {
        if (!float.IsFinite(value) || value < min || value > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: must be {min}..{max} {unit}, got {value}"));
        }
    }
}
