using System.Numerics.Tensors;

namespace EdgeSeg.Pipeline.Quantization;

/// <summary>How an activation's clipping threshold is chosen from its calibration histogram.</summary>
public enum CalibrationMethod
{
    /// <summary>The largest magnitude seen: nothing is clipped, the bulk gets the fewest levels.</summary>
    MinMax,

    /// <summary>A high percentile of the magnitudes (<see cref="ActivationHistogram.Threshold"/>'s argument).</summary>
    Percentile,

    /// <summary>The threshold whose 128-level quantization loses the least information (KL divergence, as TensorRT's entropy calibrator).</summary>
    Entropy,
}

/// <summary>
/// A histogram of one activation tensor's magnitudes over calibration frames, kept in a single pass: it
/// covers [0, range) in <see cref="Bins"/> equal bins, and when a value beyond the range arrives the range
/// doubles (as often as needed) and neighbouring bins merge, so no frame is seen twice and the first
/// frame need not contain the largest value.
/// </summary>
public sealed class ActivationHistogram
{
    public const int Bins = 2048;

    private readonly long[] _counts = new long[Bins];

    /// <summary>Upper end of the histogram's range (0 until the first non-zero value).</summary>
    public double Range { get; private set; }

    /// <summary>Largest magnitude seen.</summary>
    public double AbsMax { get; private set; }

    /// <summary>Number of values added.</summary>
    public long Count { get; private set; }

    /// <summary>Number of values exactly zero (a Relu's output is often half zeros; they cost int8 nothing).</summary>
    public long Zeros { get; private set; }

    /// <summary>Sum of squares of the values added, for the signal-to-noise estimate.</summary>
    public double SumSquares { get; private set; }

    public ReadOnlySpan<long> Counts => _counts;

    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var max = Math.Max(Math.Abs(TensorPrimitives.Max(values)), Math.Abs(TensorPrimitives.Min(values)));
        if (!float.IsFinite(max))
        {
            throw new QuantizationException("a calibration activation holds NaN or infinity; the float model itself is broken on these frames");
        }

        AbsMax = Math.Max(AbsMax, max);
        SumSquares += TensorPrimitives.SumOfSquares(values);
        Count += values.Length;
        if (max == 0)
        {
            _counts[0] += values.Length;
            Zeros += values.Length;
            return;
        }

        if (Range == 0)
        {
            Range = max * (1 + 1e-6);
        }

        while (max >= Range)
        {
            Grow();
        }

        var perBin = Bins / Range;
        long zeros = 0;
        foreach (var v in values)
        {
            var bin = (int)(MathF.Abs(v) * perBin);
            _counts[bin < Bins ? bin : Bins - 1]++;
            zeros += v == 0 ? 1 : 0;
        }

        Zeros += zeros;
    }

    /// <summary>Doubles the range: bins 2k and 2k+1 become bin k.</summary>
    private void Grow()
    {
        for (var k = 0; k < Bins / 2; k++)
        {
            _counts[k] = _counts[2 * k] + _counts[(2 * k) + 1];
        }

        Array.Clear(_counts, Bins / 2, Bins / 2);
        Range *= 2;
    }

    /// <summary>The clipping threshold by <paramref name="method"/> (magnitudes above it saturate at ±127).</summary>
    public double Threshold(CalibrationMethod method, double percentile = 99.99)
    {
        if (AbsMax == 0)
        {
            return 0;
        }

        return method switch
        {
            CalibrationMethod.MinMax => AbsMax,
            CalibrationMethod.Percentile => Math.Min(AbsMax, PercentileThreshold(percentile)),
            CalibrationMethod.Entropy => Math.Min(AbsMax, EntropyThreshold()),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
    }

    private double PercentileThreshold(double percentile)
    {
        if (percentile is <= 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "a percentile is in (0, 100]");
        }

        var target = Count * (percentile / 100.0);
        long seen = 0;
        for (var k = 0; k < Bins; k++)
        {
            seen += _counts[k];
            if (seen >= target)
            {
                return (k + 1) * Range / Bins;
            }
        }

        return Range;
    }

    /// <summary>
    /// For each candidate threshold (bins 128..2048), the reference distribution P is the histogram up to it
    /// with everything beyond folded into its last bin; Q is the histogram up to it without those, squeezed
    /// into 128 levels and spread back over the bins that were non-zero. Each is normalised to 1; the
    /// threshold with the smallest KL(P || Q) wins.
    /// </summary>
    private double EntropyThreshold()
    {
        const int levels = 128;
        var best = double.PositiveInfinity;
        var bestBins = Bins;
        var p = new double[Bins];
        var q = new double[Bins];
        var beyond = new long[Bins + 1];
        for (var k = Bins - 1; k >= 0; k--)
        {
            beyond[k] = beyond[k + 1] + _counts[k];
        }

        var total = beyond[0];
        for (var i = levels; i <= Bins; i++)
        {
            var outliers = beyond[i];

            for (var k = 0; k < i; k++)
            {
                p[k] = _counts[k];
            }

            p[i - 1] += outliers;

            // Q: the histogram up to i WITHOUT the outliers, squeezed into `levels` groups, each group's
            // mass spread evenly over its non-zero bins. Clipping shows up as P's last bin outweighing Q's.
            double qTotal = 0;
            for (var j = 0; j < levels; j++)
            {
                var start = j * i / levels;
                var end = (j + 1) * i / levels;
                double mass = 0;
                var nonZero = 0;
                for (var k = start; k < end; k++)
                {
                    mass += _counts[k];
                    nonZero += _counts[k] != 0 ? 1 : 0;
                }

                for (var k = start; k < end; k++)
                {
                    q[k] = _counts[k] != 0 ? mass / nonZero : 0;
                }

                qTotal += mass;
            }

            double divergence = 0;
            for (var k = 0; k < i; k++)
            {
                if (p[k] == 0)
                {
                    continue;
                }

                var pk = p[k] / total;
                var qk = qTotal > 0 ? q[k] / qTotal : 0;
                divergence += qk > 0 ? pk * Math.Log(pk / qk) : pk * 20.0;
            }

            if (divergence < best)
            {
                best = divergence;
                bestBins = i;
            }
        }

        return (bestBins + 0.5) * Range / Bins;
    }

    /// <summary>
    /// Share of the non-zero values that int8 at <paramref name="threshold"/> would round to zero: near 1
    /// when a few huge values set the range and the bulk of the tensor is lost under one step.
    /// </summary>
    public double FlushedToZero(double threshold)
    {
        var nonZero = Count - Zeros;
        if (nonZero <= 0 || threshold <= 0)
        {
            return 0;
        }

        var halfStep = threshold / 254.0;
        long under = 0;
        for (var k = 0; k < Bins && (k + 1) * Range / Bins <= halfStep; k++)
        {
            under += _counts[k];
        }

        return Math.Clamp((double)(under - Zeros) / nonZero, 0, 1);
    }

    /// <summary>
    /// Estimated signal-to-quantization-noise ratio in dB at <paramref name="threshold"/>: rounding noise for
    /// the values inside, the clipped excess for the values outside (at bin centres), against the signal's
    /// mean square.
    /// </summary>
    public double SignalToNoiseDb(double threshold)
    {
        if (Count == 0 || SumSquares == 0 || threshold <= 0)
        {
            return double.PositiveInfinity;
        }

        var step = threshold / 127.0;
        double noise = 0;
        for (var k = 0; k < Bins; k++)
        {
            if (_counts[k] == 0)
            {
                continue;
            }

            var centre = (k + 0.5) * Range / Bins;
            // Inside: rounding error, uniform over a step, except that values under half a step round to
            // 0 with an error of their own size (a Relu's zeros cost nothing). Outside: the clipped excess.
            var inside = centre < step / 2 ? centre * centre : step * step / 12.0;
            noise += centre <= threshold ? _counts[k] * inside : _counts[k] * (centre - threshold) * (centre - threshold);
        }

        return noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(SumSquares / noise);
    }
}
