using System.Diagnostics;
using System.Globalization;
using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Statistics;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Benchmarks;

/// <summary>
/// The cost of per-zone counting against the whole-frame count it replaces, side by side on the same
/// label maps (rendered streets, exact labels at the model's 512x256), interleaved so that the machine's
/// load hits both alike.
/// </summary>
internal static class ZoneBenchmark
{
    public static int Run(string[] args)
    {
        var zones = 8;
        var rounds = 2000;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--zones": zones = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        const int Width = 512, Height = 256;
        var maps = new List<LabelMap>();
        for (var seed = 0; seed < 8; seed++)
        {
            var labels = new LabelMap();
            new StreetSceneRenderer(seed, Width, Height) { PostEffects = false }.Render(10, 15, new VideoFrame(), labels);
            maps.Add(labels);
        }

        // Overlapping lane-like strips and boxes spread over the lower half of the view.
        var zoneList = Enumerable.Range(0, zones).Select(z =>
        {
            var x = (z % 4) / 4.0;
            var y = 0.4 + (0.25 * (z / 4 % 2));
            return new Zone($"z{z}", [new(x, y), new(Math.Min(1, x + 0.35), y), new(Math.Min(1, x + 0.3), Math.Min(1, y + 0.35)), new(x + 0.05, Math.Min(1, y + 0.35))]);
        }).ToList();
        var classes = Enumerable.Range(0, 19).Select(c => $"c{c}").ToList();
        var layout = new AreaLayout(classes, [new ClassGroup("vehicle", [13, 14, 15, 17, 18])], zoneList);
        var counter = new AreaCounter(layout);
        var values = new double[layout.ValueCount];
        var counts = new long[19];
        var shares = new double[19];
        counter.Prepare(Width, Height);

        var whole = new List<double>();
        var zoned = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            var map = maps[r % maps.Count];
            // A B B A: each order as often as the other.
            var first = r % 2 == 0;
            for (var k = 0; k < 2; k++)
            {
                var t = Stopwatch.GetTimestamp();
                if (first == (k == 0))
                {
                    ClassAreaCounter.Shares(map.Labels, counts, shares);
                    whole.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
                }
                else
                {
                    counter.Measure(map.Labels, Width, Height, values);
                    zoned.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
                }
            }
        }

        whole.Sort();
        zoned.Sort();
        double P(List<double> v, double p) => v[(int)Math.Clamp(Math.Ceiling(p * v.Count) - 1, 0, v.Count - 1)];
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"label maps {maps.Count} x {Width}x{Height}, {rounds} rounds interleaved, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        Console.WriteLine(string.Create(inv, $"whole frame (ClassAreaCounter.Shares)              p50 {P(whole, 0.5),8:0.0} us  p95 {P(whole, 0.95),8:0.0} us"));
        Console.WriteLine(string.Create(inv, $"frame + {zones} zones + 1 group (AreaCounter.Measure)   p50 {P(zoned, 0.5),8:0.0} us  p95 {P(zoned, 0.95),8:0.0} us"));
        Console.WriteLine(string.Create(inv, $"ratio zones / whole frame (p50)                    {P(zoned, 0.5) / P(whole, 0.5):0.00}x"));
        return 0;
    }
}
