using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Evaluation;

/// <summary>How well one zone's published shares follow the truth: mean |predicted − true| per class and group, over frames.</summary>
public sealed record ZoneEvaluation(
    string Name,
    double FrameShare,
    IReadOnlyList<(string Name, double MeanTrueShare, double MeanPredictedShare, double MeanAbsError)> Series,
    double MeanAbsShareError,
    string WorstSeries,
    double WorstAbsShareError);

/// <summary>Square metres of one class or group in one region (the whole frame or a zone): true, predicted, error.</summary>
public sealed record GroundEvaluation(string Region, string Series, double MeanTrueM2, double MeanPredictedM2, double MeanAbsErrorM2)
{
    /// <summary>Mean absolute error over the mean true area (NaN when there is none).</summary>
    public double RelativeError => MeanTrueM2 > 0 ? MeanAbsErrorM2 / MeanTrueM2 : double.NaN;
}

/// <summary>Per-zone share errors and ground-area errors of an evaluation.</summary>
public sealed record AreaEvaluationResult(IReadOnlyList<ZoneEvaluation> Zones, IReadOnlyList<GroundEvaluation> Ground);

/// <summary>
/// Measures the zone and ground figures the appliance would publish (from the model's labels, with the
/// configured ground plane) against the same figures from exact labels and exact geometry.
/// </summary>
public sealed class AreaEvaluation
{
    private readonly AreaLayout _predicted;
    private readonly AreaLayout _truth;
    private readonly AreaCounter _predictedCounter;
    private readonly AreaCounter _truthCounter;
    private readonly double[] _p;
    private readonly double[] _t;
    private readonly double[] _sumTrue;
    private readonly double[] _sumPredicted;
    private readonly double[] _sumError;
    private int _frames;

    /// <param name="predicted">The layout as configured (zones, groups, the configured ground plane).</param>
    /// <param name="truth">The same zones and groups with the exact ground plane (or none).</param>
    public AreaEvaluation(AreaLayout predicted, AreaLayout truth)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(truth);
        if (predicted.Zones.Count != truth.Zones.Count || predicted.Series != truth.Series || (predicted.Ground is null) != (truth.Ground is null))
        {
            throw new ArgumentException("the predicted and true layouts must have the same zones, series and ground", nameof(truth));
        }

        _predicted = predicted;
        _truth = truth;
        _predictedCounter = new AreaCounter(predicted);
        _truthCounter = new AreaCounter(truth);
        _p = new double[predicted.ValueCount];
        _t = new double[truth.ValueCount];
        _sumTrue = new double[predicted.ValueCount];
        _sumPredicted = new double[predicted.ValueCount];
        _sumError = new double[predicted.ValueCount];
    }

    /// <summary>Adds a frame: the model's labels (at its resolution) and the true labels (at theirs).</summary>
    public void Add(LabelMap prediction, LabelMap truth)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(truth);
        _predictedCounter.Measure(prediction.Labels, prediction.Width, prediction.Height, _p);
        _truthCounter.Measure(truth.Labels, truth.Width, truth.Height, _t);
        for (var i = 0; i < _p.Length; i++)
        {
            _sumTrue[i] += _t[i];
            _sumPredicted[i] += _p[i];
            _sumError[i] += Math.Abs(_p[i] - _t[i]);
        }

        _frames++;
    }

    public AreaEvaluationResult Result()
    {
        var n = Math.Max(_frames, 1);
        var layout = _predicted;
        var zones = new List<ZoneEvaluation>();
        for (var z = 0; z < layout.Zones.Count; z++)
        {
            var series = Enumerable.Range(0, layout.Series).Select(s =>
            {
                var i = layout.ShareIndex(z + 1, s);
                return (layout.SeriesNames[s], _sumTrue[i] / n, _sumPredicted[i] / n, _sumError[i] / n);
            }).ToList();
            var classes = series.Take(layout.Classes).ToList();
            var worst = series.MaxBy(s => s.Item4);
            zones.Add(new ZoneEvaluation(
                layout.Zones[z].Name, _truthCounter.ZoneFrameShares.Count > z ? _truthCounter.ZoneFrameShares[z] : 0,
                series, classes.Average(s => s.Item4), worst.Item1, worst.Item4));
        }

        var ground = new List<GroundEvaluation>();
        if (layout.Ground is not null)
        {
            for (var r = 0; r < layout.Regions; r++)
            {
                foreach (var s in layout.GroundSeries)
                {
                    var i = layout.AreaIndex(r, s);
                    ground.Add(new GroundEvaluation(
                        r == 0 ? "frame" : layout.Zones[r - 1].Name, layout.SeriesNames[s], _sumTrue[i] / n, _sumPredicted[i] / n, _sumError[i] / n));
                }
            }
        }

        return new AreaEvaluationResult(zones, ground);
    }
}
