using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Processing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace EdgeSeg.Pipeline.Tests.Capture;

/// <summary>
/// A camera that keeps going away: a real RTSP server killed and started again 20 times (8 s up, 4 s
/// down), as a camera on a flaky link or a power cycle would. Frames must come back in every cycle, each
/// within 3 s of the server accepting connections (a contract of the appliance: not a speed benchmark).
/// </summary>
[Collection(FfmpegProcesses.Name)]
public sealed class CameraOutageCyclesTests(ITestOutputHelper output)
{
    private const int Cycles = 20;
    private static readonly TimeSpan Up = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan Down = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Resume = TimeSpan.FromSeconds(3);

    [SkippableFact]
    public async Task Frames_resume_within_3_s_in_each_of_20_server_restarts_and_no_decoder_outlives_the_worker()
    {
        Requires.Ffmpeg();
        var port = StreamServer.FreePort();
        using var signal = new FrameSignal();
        var slot = new FrameSlot(signal);
        using var worker = new CaptureWorker("north", () => FrameSourceFactory.Open($"rtsp://127.0.0.1:{port}/test"), slot, maxFps: null, NullLogger.Instance);
        var states = new ConcurrentQueue<CaptureState>();
        worker.StateChanged += w => states.Enqueue(w.State);
        var resumed = new List<double>();
        var missed = new List<int>();
        worker.Start();
        try
        {
            for (var cycle = 0; cycle < Cycles; cycle++)
            {
                using (var server = await StreamServer.StartRtspAsync(port))
                {
                    // StartRtspAsync returns once the server listens.
                    var ready = Stopwatch.StartNew();
                    var before = worker.Captured;
                    while (worker.Captured == before && ready.Elapsed < Up)
                    {
                        Thread.Sleep(10);
                    }

                    if (worker.Captured == before)
                    {
                        missed.Add(cycle);
                    }
                    else
                    {
                        resumed.Add(ready.Elapsed.TotalSeconds);
                    }

                    var rest = Up - ready.Elapsed;
                    if (rest > TimeSpan.Zero)
                    {
                        Thread.Sleep(rest);
                    }
                }

                Thread.Sleep(Down);
            }
        }
        finally
        {
            worker.Stop(TimeSpan.FromSeconds(15));
        }

        var report = $"resumed in {resumed.Count} of {Cycles} cycles after {string.Join(", ", resumed.Select(s => s.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))} s; missed {string.Join(", ", missed)}";
        output.WriteLine(report);
        Assert.True(missed.Count == 0, report);
        Assert.True(resumed.All(s => s <= Resume.TotalSeconds), report);
        // Each outage shows as a reconnect and each return as streaming again.
        Assert.True(worker.Reconnects >= Cycles - 1, $"{worker.Reconnects} reconnects; {report}");
        Assert.True(states.Count(s => s == CaptureState.Streaming) >= Cycles, $"{states.Count(s => s == CaptureState.Streaming)} transitions to streaming");
        Assert.True(ChildProcesses.WaitUntilNone("ffmpeg", TimeSpan.FromSeconds(5)), "an ffmpeg outlived the worker");
    }
}
