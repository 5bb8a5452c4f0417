using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Evaluation;

/// <summary>Accuracy of one class over an evaluation.</summary>
public sealed record ClassEvaluation(
    string Name,
    long TruthPixels,
    double IoU,
    double MeanTrueShare,
    double MeanPredictedShare,
    double MeanAbsShareError);

/// <summary>Accuracy of one way of labelling (raw argmax, or refined) over an evaluation.</summary>
public sealed record LabellingEvaluation(
    ConfusionMatrix Matrix,
    IReadOnlyList<ClassEvaluation> Classes,
    double MeanIoU,
    double PixelAccuracy,
    double TrimapAccuracy,
    double MeanAbsShareError,
    double MaxClassShareError);

/// <summary>What <see cref="SegmentationEvaluator"/> measured.</summary>
public sealed record EvaluationResult(int Frames, int TrimapWidth, LabellingEvaluation Raw, LabellingEvaluation? Refined)
{
    /// <summary>Zone and ground-area errors of the raw labels, when the evaluation was given a layout.</summary>
    public AreaEvaluationResult? Areas { get; init; }
}

/// <summary>
/// Runs a model over frames with known truth and measures what the appliance publishes: per-class IoU,
/// mIoU over the classes in the truth (the matrix also gives the Cityscapes mIoU over classes in the
/// truth or the prediction), pixel accuracy, accuracy in the <see cref="BoundaryBand"/> (trimap), and the error of
/// each class's area share |predicted − true| averaged over frames. With a refiner, raw and refined
/// labels are measured side by side on the same frames.
/// </summary>
public sealed class SegmentationEvaluator
{
    private readonly OnnxSegmenter _segmenter;
    private readonly ILabelRefiner? _refiner;
    private readonly int _trimapWidth;

    public SegmentationEvaluator(OnnxSegmenter segmenter, ILabelRefiner? refiner = null, int trimapWidth = 2)
    {
        _segmenter = segmenter;
        _refiner = refiner;
        _trimapWidth = trimapWidth;
    }

    /// <summary>
    /// Evaluates up to <paramref name="maxFrames"/> frames. With <paramref name="areas"/>, the zone shares and
    /// ground areas of the raw labels are measured against those of the true labels as well.
    /// </summary>
    public EvaluationResult Run(ILabeledFrameSource source, int maxFrames, Action<int>? progress = null, AreaEvaluation? areas = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var model = _segmenter.Model;
        var classes = model.Labels.Count;
        var raw = new Tally(classes);
        var refined = _refiner is null ? null : new Tally(classes);
        var frame = new VideoFrame();
        var truth = new LabelMap();
        var output = new LabelMap();
        var refinedOutput = new LabelMap(model.Width, model.Height);
        var atFrame = new LabelMap();
        var band = Array.Empty<byte>();
        var frames = 0;
        while (frames < maxFrames && source.Read(frame, truth))
        {
            if (truth.Width != frame.Width || truth.Height != frame.Height)
            {
                throw new FrameSourceException($"{source.Description}: truth is {truth.Width}x{truth.Height}, frame {frame.Width}x{frame.Height}");
            }

            var segmentation = _segmenter.Infer(frame);
            segmentation.Decode(output);
            atFrame.EnsureSize(frame.Width, frame.Height);
            if (band.Length != truth.Length)
            {
                band = new byte[truth.Length];
            }

            BoundaryBand.Compute(truth, _trimapWidth, band);
            raw.Add(truth, output, atFrame, band);
            areas?.Add(output, truth);
            if (_refiner is not null)
            {
                _refiner.TryRefine(segmentation.Scores, segmentation.Input, refinedOutput.Labels, long.MaxValue);
                refined!.Add(truth, refinedOutput, atFrame, band);
            }

            frames++;
            progress?.Invoke(frames);
        }

        if (frames == 0)
        {
            throw new FrameSourceException($"{source.Description}: no frames to evaluate");
        }

        return new EvaluationResult(frames, _trimapWidth, raw.Result(model.Labels, frames), refined?.Result(model.Labels, frames))
        {
            Areas = areas?.Result(),
        };
    }

    /// <summary>Counts of one labelling.</summary>
    private sealed class Tally(int classes)
    {
        private readonly double[] _trueShare = new double[classes];
        private readonly double[] _predShare = new double[classes];
        private readonly double[] _shareError = new double[classes];
        private readonly long[] _counts = new long[classes];
        private readonly double[] _truthShares = new double[classes];
        private readonly double[] _predictedShares = new double[classes];
        private long _bandPixels;
        private long _bandCorrect;

        public ConfusionMatrix Matrix { get; } = new(classes);

        /// <summary>Adds a frame: prediction at model resolution, mapped to the truth's size first.</summary>
        public void Add(LabelMap truth, LabelMap prediction, LabelMap atFrame, ReadOnlySpan<byte> band)
        {
            LabelResize.Nearest(prediction, atFrame);
            Matrix.Add(truth.Labels, atFrame.Labels);

            // The published share is counted on the model's own label map; the truth on labelled pixels.
            ClassAreaCounter.Shares(prediction.Labels, _counts, _predictedShares);
            ClassAreaCounter.Shares(truth.Labels, _counts, _truthShares);
            for (var c = 0; c < _trueShare.Length; c++)
            {
                _trueShare[c] += _truthShares[c];
                _predShare[c] += _predictedShares[c];
                _shareError[c] += Math.Abs(_predictedShares[c] - _truthShares[c]);
            }

            var (correct, total) = BoundaryBand.Count(truth.Labels, atFrame.Labels, band, classes);
            _bandCorrect += correct;
            _bandPixels += total;
        }

        public LabellingEvaluation Result(LabelSet labels, int frames)
        {
            var perClass = new ClassEvaluation[labels.Count];
            for (var c = 0; c < labels.Count; c++)
            {
                perClass[c] = new ClassEvaluation(
                    labels.ClassNames[c], Matrix.TruthCount(c), Matrix.IoU(c),
                    _trueShare[c] / frames, _predShare[c] / frames, _shareError[c] / frames);
            }

            return new LabellingEvaluation(
                Matrix,
                perClass,
                Matrix.MeanIoU(),
                Matrix.PixelAccuracy(),
                _bandPixels == 0 ? double.NaN : (double)_bandCorrect / _bandPixels,
                perClass.Average(c => c.MeanAbsShareError),
                perClass.Max(c => c.MeanAbsShareError));
        }
    }
}
