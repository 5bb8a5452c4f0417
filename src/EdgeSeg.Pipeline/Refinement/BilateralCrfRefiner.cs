using System.Diagnostics;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Processing;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// Refines a DeepLab score map with a fully connected CRF (appearance + smoothness kernels, Potts
/// compatibility, mean-field inference), fast enough for video: the appearance kernel is filtered on
/// a permutohedral lattice, intermediate iterations run on a coarser grid of real pixels, the last
/// one updates every pixel, and the work is split over worker threads. One instance serves one
/// stream at a time (it is not thread-safe); once warm it allocates nothing per frame of an
/// unchanged size.
/// </summary>
public sealed class BilateralCrfRefiner : ILabelRefiner, IDisposable
{
    private readonly MeanFieldEngine _engine;
    private bool _disposed;

    /// <summary>Creates a refiner.</summary>
    /// <param name="options">CRF parameters; invalid ones are rejected with every problem listed.</param>
    /// <param name="parallelism">Threads used per frame (the caller's included); default: all cores, at most 4.</param>
    public BilateralCrfRefiner(CrfOptions options, int parallelism = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid CRF options: " + string.Join("; ", errors), nameof(options));
        }

        if (parallelism < 0 || parallelism > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism, "must be 0 (all cores, at most 4) or 1..64 threads");
        }

        Options = options;
        Parallelism = parallelism == 0 ? Math.Clamp(Environment.ProcessorCount, 1, 4) : parallelism;
        _engine = new MeanFieldEngine(options, Parallelism);
    }

    public CrfOptions Options { get; }

    /// <summary>Threads that share each frame's work.</summary>
    public int Parallelism { get; }

    internal MeanFieldEngine Engine => _engine;

    /// <summary>
    /// Refines one frame.
    /// </summary>
    /// <param name="scores">
    /// Logits NCHW with batch 1: <paramref name="classes"/> planes of scoreHeight × scoreWidth, at most
    /// the frame's size; a smaller map is upsampled bilinearly with half-pixel centres (as DeepLab and
    /// torchvision do), a map of the frame's size is used as is.
    /// </param>
    /// <param name="classes">Number of classes, 1..255.</param>
    /// <param name="scoreHeight">Rows of the score map.</param>
    /// <param name="scoreWidth">Columns of the score map.</param>
    /// <param name="imageBgr">The frame, packed BGR24 (OpenCV order), width × height × 3 bytes.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="labels">Receives width × height class ids, row-major.</param>
    /// <param name="probabilities">
    /// Optional: receives the final beliefs Q, classes × height × width (CHW). Classes pruned for this
    /// frame (see <see cref="CrfOptions.ClassPruningThreshold"/>) get 0.
    /// </param>
    public void Refine(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, ReadOnlySpan<byte> imageBgr,
        int width, int height, Span<byte> labels, Span<float> probabilities = default)
    {
        Check(scores, classes, scoreHeight, scoreWidth, imageBgr, width, height, labels, probabilities);
        _engine.Run(scores, classes, scoreHeight, scoreWidth, imageBgr, width, height, labels, probabilities);
    }

    /// <summary>
    /// Refines one frame against a deadline (a <see cref="Stopwatch"/> timestamp). The clock is
    /// checked after the lattice is built, between mean-field iterations and before and after the
    /// full-resolution update; the first check past the deadline abandons the frame. Returns false
    /// then (the labels are incomplete and the caller keeps its unrefined ones), true when the
    /// labels are complete, identical to <see cref="Refine"/>'s, within the deadline.
    /// </summary>
    public bool TryRefine(ScoreMap scores, BgrImage image, Span<byte> labels, long deadline)
    {
        Check(scores.Scores, scores.Classes, scores.Height, scores.Width, image.Pixels, image.Width, image.Height, labels, default);
        return _engine.Run(scores.Scores, scores.Classes, scores.Height, scores.Width, image.Pixels, image.Width, image.Height, labels, default, deadline);
    }

    private void Check(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, ReadOnlySpan<byte> imageBgr,
        int width, int height, Span<byte> labels, Span<float> probabilities)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ScoreMapCheck.Validate(scores.Length, classes, scoreHeight, scoreWidth, width, height);
        var pixels = (long)width * height;
        if (imageBgr.Length < pixels * 3)
        {
            throw new ArgumentException($"needs {pixels * 3} bytes (width × height × 3, BGR24), got {imageBgr.Length}", nameof(imageBgr));
        }

        if (labels.Length < pixels)
        {
            throw new ArgumentException($"needs {pixels} labels (width × height), got {labels.Length}", nameof(labels));
        }

        if (!probabilities.IsEmpty && probabilities.Length < pixels * classes)
        {
            throw new ArgumentException($"needs {pixels * classes} values (classes × height × width) or none, got {probabilities.Length}", nameof(probabilities));
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _engine.Dispose();
    }
}
