using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Benchmarking;

/// <summary>Timings of one measured phase.</summary>
public sealed record PhaseResult(int Frames, double Seconds, double P50Ms, double P95Ms)
{
    public double FramesPerSecond => Frames / Seconds;
}

/// <summary>What <see cref="ThroughputBenchmark"/> measured, side by side from one run.</summary>
public sealed record ThroughputResult(
    PhaseResult RawInference,
    PhaseResult Pipeline,
    double AllocatedBytesPerFrame,
    double DecodeMs,
    double PreprocessMs,
    double RunMs,
    double ArgMaxMs,
    double StatisticsMs,
    int SourceWidth,
    int SourceHeight)
{
    /// <summary>Pipeline throughput over raw inference throughput (1 = the pipeline costs nothing extra).</summary>
    public double Ratio => Pipeline.FramesPerSecond / RawInference.FramesPerSecond;
}

/// <summary>
/// Measures raw model throughput (<c>Run</c> alone, on a ready input) and whole-pipeline throughput
/// (decode → preprocess → run → argmax → class areas, with decoding on its own thread as in the service)
/// in one run, so that their ratio shows what the pipeline costs around the model.
/// </summary>
public static class ThroughputBenchmark
{
    public static ThroughputResult Run(OnnxSegmenter segmenter, Func<IFrameSource> openSource, int frames, int warmup = 5)
    {
        ArgumentNullException.ThrowIfNull(segmenter);
        ArgumentNullException.ThrowIfNull(openSource);
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);

        using var source = openSource();
        var first = new VideoFrame();
        if (!source.Read(first))
        {
            throw new FrameSourceException($"{source.Description}: no frame to benchmark with");
        }

        // Raw: the model alone on an input that is already in place.
        segmenter.Preprocess(first);
        for (var i = 0; i < warmup; i++)
        {
            _ = segmenter.Run();
        }

        var raw = new double[frames];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < frames; i++)
        {
            var t = Stopwatch.GetTimestamp();
            _ = segmenter.Run();
            raw[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }

        var rawSeconds = total.Elapsed.TotalSeconds;
        var rawResult = new PhaseResult(frames, rawSeconds, Percentile(raw, 0.5), Percentile(raw, 0.95));

        // Pipeline: a decoding thread feeds frames through a two-deep queue of recycled buffers.
        using var full = new BlockingCollection<VideoFrame>(2);
        using var free = new BlockingCollection<VideoFrame>(4);
        for (var i = 0; i < 4; i++)
        {
            free.Add(new VideoFrame());
        }

        var needed = frames + warmup;
        double decodeMs = 0;
        var decoder = new Thread(() =>
        {
            try
            {
                for (var i = 0; i < needed; i++)
                {
                    var frame = free.Take();
                    var t = Stopwatch.GetTimestamp();
                    if (!source.Read(frame))
                    {
                        break;
                    }

                    decodeMs += Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                    full.Add(frame);
                }
            }
            finally
            {
                full.CompleteAdding();
            }
        })
        { IsBackground = true, Name = "bench-decode" };

        var labels = new LabelMap();
        var counts = new long[segmenter.Model.Labels.Count];
        var shares = new double[segmenter.Model.Labels.Count];
        var perFrame = new double[frames];
        double pre = 0, run = 0, argmax = 0, stats = 0;
        var measured = 0;
        long allocatedAtStart = 0;
        var pipelineClock = new Stopwatch();
        decoder.Start();
        var index = 0;
        foreach (var frame in full.GetConsumingEnumerable())
        {
            if (index == warmup)
            {
                allocatedAtStart = GC.GetTotalAllocatedBytes(precise: true);
                pipelineClock.Start();
            }

            var t0 = Stopwatch.GetTimestamp();
            segmenter.Preprocess(frame);
            var t1 = Stopwatch.GetTimestamp();
            var segmentation = segmenter.Run();
            var t2 = Stopwatch.GetTimestamp();
            segmentation.Decode(labels);
            var t3 = Stopwatch.GetTimestamp();
            ClassAreaCounter.Shares(labels.Labels, counts, shares);
            var t4 = Stopwatch.GetTimestamp();
            free.Add(frame);
            if (index >= warmup)
            {
                pre += Ms(t0, t1);
                run += Ms(t1, t2);
                argmax += Ms(t2, t3);
                stats += Ms(t3, t4);
                perFrame[measured++] = Ms(t0, t4);
            }

            index++;
        }

        pipelineClock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedAtStart;
        decoder.Join();
        if (measured == 0)
        {
            throw new FrameSourceException($"{source.Description}: ended after {index} frames, before the {warmup} warm-up frames were done");
        }

        var times = perFrame.AsSpan(0, measured).ToArray();
        var pipeline = new PhaseResult(measured, pipelineClock.Elapsed.TotalSeconds, Percentile(times, 0.5), Percentile(times, 0.95));
        return new ThroughputResult(
            rawResult,
            pipeline,
            (double)allocated / measured,
            decodeMs / index,
            pre / measured,
            run / measured,
            argmax / measured,
            stats / measured,
            first.Width,
            first.Height);
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    private static double Percentile(double[] samples, double p) => ClassAreaAccumulator.Percentile(samples.AsSpan(), p);
}

/// <summary>Two models measured in one run, interleaved, and how B compares to A.</summary>
public sealed record ComparisonResult(ThroughputResult A, ThroughputResult B, int Rounds)
{
    /// <summary>Raw-inference throughput of B over A's.</summary>
    public double RawRatio => B.RawInference.FramesPerSecond / A.RawInference.FramesPerSecond;

    /// <summary>Whole-pipeline throughput of B over A's.</summary>
    public double PipelineRatio => B.Pipeline.FramesPerSecond / A.Pipeline.FramesPerSecond;
}

/// <summary>
/// Measures two models side by side: rounds in the order A B B A, each a full
/// <see cref="ThroughputBenchmark"/> run of frames / (2 × rounds) per model, so that a change in the
/// machine's load during the run falls on both models alike. Throughput is total frames over total time;
/// p50/p95 are the medians of the rounds' figures.
/// </summary>
public static class ComparisonBenchmark
{
    public static ComparisonResult Run(OnnxSegmenter a, OnnxSegmenter b, Func<IFrameSource> openSource, int frames, int rounds = 4)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var perRun = Math.Max(1, frames / (2 * rounds));
        var resultsA = new List<ThroughputResult>();
        var resultsB = new List<ThroughputResult>();
        for (var r = 0; r < rounds; r++)
        {
            resultsA.Add(ThroughputBenchmark.Run(a, openSource, perRun));
            resultsB.Add(ThroughputBenchmark.Run(b, openSource, perRun));
            resultsB.Add(ThroughputBenchmark.Run(b, openSource, perRun));
            resultsA.Add(ThroughputBenchmark.Run(a, openSource, perRun));
        }

        return new ComparisonResult(Merge(resultsA), Merge(resultsB), rounds);
    }

    private static ThroughputResult Merge(List<ThroughputResult> runs)
    {
        static PhaseResult Phase(IEnumerable<PhaseResult> phases)
        {
            var list = phases.ToList();
            return new PhaseResult(list.Sum(p => p.Frames), list.Sum(p => p.Seconds), Median(list.Select(p => p.P50Ms)), Median(list.Select(p => p.P95Ms)));
        }

        return new ThroughputResult(
            Phase(runs.Select(r => r.RawInference)),
            Phase(runs.Select(r => r.Pipeline)),
            runs.Average(r => r.AllocatedBytesPerFrame),
            runs.Average(r => r.DecodeMs),
            runs.Average(r => r.PreprocessMs),
            runs.Average(r => r.RunMs),
            runs.Average(r => r.ArgMaxMs),
            runs.Average(r => r.StatisticsMs),
            runs[0].SourceWidth,
            runs[0].SourceHeight);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
