using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Statistics;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeSeg.Pipeline.Tests.Processing;

public sealed class PipelineMetricsTests
{
    /// <summary>Every measurement of <paramref name="meter"/>'s instruments: (instrument, value, camera tag).</summary>
    private static MeterListener Listen(Meter meter, ConcurrentQueue<(string Instrument, double Value, string? Camera)> seen)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
            where T : struct
        {
            string? camera = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "camera")
                {
                    camera = tag.Value as string;
                }
            }

            seen.Enqueue((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), camera));
        }

        listener.SetMeasurementEventCallback<double>(Record);
        listener.SetMeasurementEventCallback<long>(Record);
        listener.SetMeasurementEventCallback<int>(Record);
        listener.Start();
        return listener;
    }

    [Fact]
    public async Task Latencies_are_recorded_per_camera_and_counters_read_what_the_pipeline_counts()
    {
        using var meter = new Meter("EdgeSeg.Tests");
        var metrics = new PipelineMetrics(meter);
        var seen = new ConcurrentQueue<(string Instrument, double Value, string? Camera)>();
        using var listener = Listen(meter, seen);
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions { IntraOpThreads = 1 });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var windows = 0;
        var pipeline = new SegmentationPipeline(
            segmenter,
            [
                new CameraDefinition("plain", "synthetic://street?size=96x48&fps=60"),
                new CameraDefinition("refined", "synthetic://street?size=96x48&fps=60", null, new RefinementStage(new FixedRefiner(label: 0, inTime: true), TimeSpan.FromSeconds(1))),
            ],
            WindowPolicy.Frames(3),
            _ =>
            {
                if (Interlocked.Increment(ref windows) >= 6)
                {
                    cts.Cancel();
                }
            },
            NullLoggerFactory.Instance,
            metrics: metrics);
        using (pipeline)
        {
            await pipeline.RunAsync(cts.Token);
            var inference = seen.Where(m => m.Instrument == "inference_seconds").ToList();
            Assert.Contains(inference, m => m.Camera == "plain");
            Assert.Contains(inference, m => m.Camera == "refined");
            Assert.All(inference, m => Assert.InRange(m.Value, 0, 60));
            var crf = seen.Where(m => m.Instrument == "crf_seconds").ToList();
            Assert.NotEmpty(crf);
            Assert.All(crf, m => Assert.Equal("refined", m.Camera));

            seen.Clear();
            listener.RecordObservableInstruments();
            foreach (var camera in pipeline.Cameras)
            {
                Assert.Contains(seen, m => m.Instrument == "frames_processed_total" && m.Camera == camera.Name && m.Value == camera.Processed);
                Assert.Contains(seen, m => m.Instrument == "frames_dropped_total" && m.Camera == camera.Name && m.Value == camera.Slot.Dropped);
                Assert.Contains(seen, m => m.Instrument == "camera_fps" && m.Camera == camera.Name && m.Value == camera.LastWindow!.Fps);
            }
        }

        // A pipeline that is gone is observed no more.
        seen.Clear();
        listener.RecordObservableInstruments();
        Assert.Empty(seen);
    }

    [Fact]
    public void Recording_a_latency_allocates_nothing_even_with_a_listener()
    {
        using var meter = new Meter("EdgeSeg.Tests.Allocation");
        var metrics = new PipelineMetrics(meter);
        using var listener = new MeterListener { InstrumentPublished = (i, l) => { if (ReferenceEquals(i.Meter, meter)) { l.EnableMeasurementEvents(i); } } };
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.Start();
        using var segmenter = OnnxSegmenter.Load(TestFiles.Fixture("colour_logits.onnx"), new InferenceOptions { IntraOpThreads = 1 });
        using var pipeline = new SegmentationPipeline(
            segmenter, [new CameraDefinition("cam", "synthetic://street?size=96x48")], WindowPolicy.Frames(3), _ => { }, NullLoggerFactory.Instance, metrics: metrics);
        var camera = pipeline.Cameras[0];
        metrics.RecordInference(camera, 0.01);
        metrics.RecordRefinement(camera, 0.01);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            metrics.RecordInference(camera, 0.01);
            metrics.RecordRefinement(camera, 0.01);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
