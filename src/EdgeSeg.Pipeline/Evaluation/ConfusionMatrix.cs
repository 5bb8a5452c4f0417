using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Evaluation;

/// <summary>
/// Pixel counts of (true class, predicted class). Pixels whose truth is <see cref="LabelMap.Ignore"/>
/// are not counted; a prediction outside the label set counts as wrong for its true class.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;
    private readonly long[] _unlabelledPredictions;

    public ConfusionMatrix(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Classes = classes;
        _counts = new long[classes * classes];
        _unlabelledPredictions = new long[classes];
    }

    public int Classes { get; }

    /// <summary>Pixels of true class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[(truth * Classes) + predicted];

    /// <summary>Adds a frame; both maps are the same size.</summary>
    public void Add(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        if (truth.Length != predicted.Length)
        {
            throw new ArgumentException($"truth has {truth.Length} pixels, prediction {predicted.Length}", nameof(predicted));
        }

        for (var i = 0; i < truth.Length; i++)
        {
            var t = truth[i];
            if (t >= Classes)
            {
                continue;
            }

            var p = predicted[i];
            if (p < Classes)
            {
                _counts[(t * Classes) + p]++;
            }
            else
            {
                _unlabelledPredictions[t]++;
            }
        }
    }

    /// <summary>Adds another matrix's counts (evaluations of several sources).</summary>
    public void AddCounts(ConfusionMatrix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Classes != Classes)
        {
            throw new ArgumentException($"{other.Classes} classes, expected {Classes}", nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        for (var i = 0; i < _unlabelledPredictions.Length; i++)
        {
            _unlabelledPredictions[i] += other._unlabelledPredictions[i];
        }
    }

    /// <summary>Pixels whose truth is class <paramref name="c"/>.</summary>
    public long TruthCount(int c)
    {
        long n = _unlabelledPredictions[c];
        for (var p = 0; p < Classes; p++)
        {
            n += this[c, p];
        }

        return n;
    }

    /// <summary>Pixels predicted as class <paramref name="c"/> (among pixels with a truth).</summary>
    public long PredictedCount(int c)
    {
        long n = 0;
        for (var t = 0; t < Classes; t++)
        {
            n += this[t, c];
        }

        return n;
    }

    /// <summary>Intersection over union of class <paramref name="c"/>, or NaN when it is neither true nor predicted anywhere.</summary>
    public double IoU(int c)
    {
        var tp = this[c, c];
        var union = TruthCount(c) + PredictedCount(c) - tp;
        return union == 0 ? double.NaN : (double)tp / union;
    }

    /// <summary>Mean IoU over the classes present in the truth.</summary>
    public double MeanIoU()
    {
        double sum = 0;
        var n = 0;
        for (var c = 0; c < Classes; c++)
        {
            if (TruthCount(c) > 0)
            {
                sum += IoU(c);
                n++;
            }
        }

        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>
    /// Mean IoU over every class that is in the truth or in the prediction (the Cityscapes convention):
    /// a class only predicted counts with IoU 0, so false alarms of absent classes lower it.
    /// </summary>
    public double MeanIoUTruthOrPredicted()
    {
        double sum = 0;
        var n = 0;
        for (var c = 0; c < Classes; c++)
        {
            if (TruthCount(c) + PredictedCount(c) > 0)
            {
                sum += IoU(c);
                n++;
            }
        }

        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>Share of labelled pixels predicted correctly.</summary>
    public double PixelAccuracy()
    {
        long correct = 0, total = 0;
        for (var c = 0; c < Classes; c++)
        {
            correct += this[c, c];
            total += TruthCount(c);
        }

        return total == 0 ? double.NaN : (double)correct / total;
    }
}
