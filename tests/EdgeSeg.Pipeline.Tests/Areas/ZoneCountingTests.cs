using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Tests.Areas;

/// <summary>Zone and group shares against values counted by hand on small label maps.</summary>
public sealed class ZoneCountingTests
{
    private static readonly string[] Names = ["road", "car", "truck", "sky"];

    // 8 x 4 map; pixel centres at x = (i + 0.5) / 8 and y = (j + 0.5) / 4.
    private static readonly byte[] Labels =
    [
        0, 0, 1, 1, 3, 3, 3, 3,
        0, 1, 1, 2, 0, 0, 3, 255,
        0, 0, 2, 2, 0, 0, 0, 0,
        0, 0, 0, 0, 1, 1, 0, 0,
    ];

    private static Zone Rect(string name, double x0, double y0, double x1, double y1) =>
        new(name, [new(x0, y0), new(x1, y0), new(x1, y1), new(x0, y1)]);

    private static (double[] Values, AreaCounter Counter) Measure(AreaLayout layout, byte[] labels, int width = 8, int height = 4)
    {
        var values = new double[layout.ValueCount];
        var counter = new AreaCounter(layout);
        counter.Measure(labels, width, height, values);
        return (values, counter);
    }

    [Fact]
    public void A_zone_whose_edges_run_through_pixel_centres_includes_those_pixels()
    {
        // Corners on the centres of pixels (0,0) and (3,2): columns 0..3 and rows 0..2 are in, 12 pixels.
        var zone = Rect("edge", 0.0625, 0.125, 0.4375, 0.625);
        var layout = new AreaLayout(Names, zones: [zone]);
        var (values, counter) = Measure(layout, Labels);

        // By hand: rows 0..2, columns 0..3 = 0 0 1 1 / 0 1 1 2 / 0 0 2 2 -> road 5, car 4, truck 3 of 12.
        Assert.Equal(5.0 / 12, values[layout.ShareIndex(1, 0)], 12);
        Assert.Equal(4.0 / 12, values[layout.ShareIndex(1, 1)], 12);
        Assert.Equal(3.0 / 12, values[layout.ShareIndex(1, 2)], 12);
        Assert.Equal(0, values[layout.ShareIndex(1, 3)]);
        Assert.Equal(12.0 / 32, counter.ZoneFrameShares[0], 12);
    }

    [Fact]
    public void Overlapping_zones_each_count_the_shared_pixels_and_the_whole_frame_is_unchanged()
    {
        var left = Rect("left", 0, 0, 0.5, 1);          // columns 0..3
        var middle = Rect("middle", 0.25, 0, 0.75, 0.5); // columns 2..5, rows 0..1
        var layout = new AreaLayout(Names, zones: [left, middle]);
        var (values, _) = Measure(layout, Labels);

        // left: 0 0 1 1 / 0 1 1 2 / 0 0 2 2 / 0 0 0 0 -> road 9, car 4, truck 3 of 16.
        Assert.Equal(9.0 / 16, values[layout.ShareIndex(1, 0)], 12);
        Assert.Equal(4.0 / 16, values[layout.ShareIndex(1, 1)], 12);
        Assert.Equal(3.0 / 16, values[layout.ShareIndex(1, 2)], 12);
        // middle: 1 1 3 3 / 1 2 0 0 -> road 2, car 3, truck 1, sky 2 of 8.
        Assert.Equal(new[] { 2.0 / 8, 3.0 / 8, 1.0 / 8, 2.0 / 8 }, values.AsSpan(layout.ShareIndex(2, 0), 4).ToArray());

        // The whole frame: what the plain counter gives (31 labelled pixels, one ignored).
        var plain = new double[4];
        ClassAreaCounter.Shares(Labels, new long[4], plain);
        Assert.Equal(plain, values.AsSpan(0, 4).ToArray());
    }

    [Fact]
    public void A_zone_that_covers_no_pixel_centre_has_every_share_zero()
    {
        // A sliver between the centres of columns 0 and 1.
        var sliver = new Zone("sliver", [new(0.07, 0.0), new(0.12, 0.0), new(0.1, 1.0)]);
        var layout = new AreaLayout(Names, zones: [sliver]);
        var (values, counter) = Measure(layout, Labels);

        Assert.All(values.AsSpan(layout.ShareIndex(1, 0), 4).ToArray(), v => Assert.Equal(0, v));
        Assert.Equal(0, counter.ZoneFrameShares[0]);
    }

    [Fact]
    public void A_zone_of_ignored_pixels_only_has_every_share_zero()
    {
        // Pixel (7, 1) alone, which is 255.
        var layout = new AreaLayout(Names, zones: [Rect("ignored", 0.9, 0.3, 0.95, 0.45)]);
        var (values, counter) = Measure(layout, Labels);
        Assert.Equal(1.0 / 32, counter.ZoneFrameShares[0], 12);
        Assert.All(values.AsSpan(layout.ShareIndex(1, 0), 4).ToArray(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void A_group_share_is_the_sum_of_its_classes_in_the_frame_and_in_each_zone()
    {
        var layout = new AreaLayout(Names, [new ClassGroup("vehicle", [1, 2])], [Rect("left", 0, 0, 0.5, 1)]);
        var (values, _) = Measure(layout, Labels);
        var vehicle = layout.SeriesIndex("vehicle");

        Assert.Equal(4, vehicle);
        // Whole frame: car 6 + truck 3 of 31 labelled pixels.
        Assert.Equal(9.0 / 31, values[layout.ShareIndex(0, vehicle)], 12);
        Assert.Equal(7.0 / 16, values[layout.ShareIndex(1, vehicle)], 12);
    }

    [Fact]
    public void Zone_masks_follow_the_label_map_size()
    {
        var layout = new AreaLayout(Names, zones: [Rect("left", 0, 0, 0.5, 1)]);
        var counter = new AreaCounter(layout);
        var values = new double[layout.ValueCount];
        counter.Measure(Labels, 8, 4, values);
        Assert.Equal(0.5, counter.ZoneFrameShares[0], 12);

        // The same zone on a 4 x 2 map: columns 0..1 of 4.
        counter.Measure([0, 3, 3, 3, 1, 1, 3, 3], 4, 2, values);
        Assert.Equal(0.5, counter.ZoneFrameShares[0], 12);
        Assert.Equal(new[] { 0.25, 0.5, 0, 0.25 }, values.AsSpan(layout.ShareIndex(1, 0), 4).ToArray());
    }

    [Theory]
    [InlineData(new double[] { 0, 0, 1, 0 }, "at least 3 points")]
    [InlineData(new double[] { 0, 0, 1.2, 0, 1, 1 }, "outside the image")]
    [InlineData(new double[] { 0, 0, 1, 1, 1, 0, 0, 1 }, "intersects itself")]
    [InlineData(new double[] { 0, 0, 0.5, 0.5, 1, 1 }, "no area")]
    [InlineData(new double[] { 0, 0, 0, 0, 1, 1, 0, 1 }, "same point")]
    public void Bad_polygons_are_refused_with_the_reason(double[] xy, string reason)
    {
        var points = Enumerable.Range(0, xy.Length / 2).Select(i => new RelativePoint(xy[2 * i], xy[(2 * i) + 1])).ToList();
        Assert.Contains(reason, Zone.Problem(points), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Zone("z", points));
    }

    [Fact]
    public void Windows_aggregate_zone_and_group_shares_like_class_shares()
    {
        var layout = new AreaLayout(Names, [new ClassGroup("vehicle", [1, 2])], [Rect("left", 0, 0, 0.5, 1)]);
        var counter = new AreaCounter(layout);
        var accumulator = new ClassAreaAccumulator("cam", layout, WindowPolicy.Frames(2)) { Counter = counter };
        var values = new double[layout.ValueCount];
        var now = DateTimeOffset.UnixEpoch;
        counter.Measure(Labels, 8, 4, values);
        Assert.Null(accumulator.Add(values, now, 1, 1, 0));
        var all = new byte[32]; // every pixel road
        counter.Measure(all, 8, 4, values);
        var window = accumulator.Add(values, now.AddSeconds(1), 1, 1, 0)!;

        var zone = Assert.Single(window.Zones);
        Assert.Equal("left", zone.Name);
        Assert.Equal(((9.0 / 16) + 1) / 2, zone.Classes[0].Mean, 12);
        Assert.Equal(9.0 / 16, zone.Classes[0].Min, 12);
        Assert.Equal(1, zone.Classes[0].Last);
        var vehicle = Assert.Single(window.Groups);
        Assert.Equal("vehicle", vehicle.Name);
        Assert.Equal(9.0 / 31 / 2, vehicle.Stats.Mean, 12);
        Assert.Equal(9.0 / 31, vehicle.Stats.Max, 12);
        Assert.Equal(7.0 / 16, zone.Groups[0].Stats.Max, 12);
        Assert.Empty(window.GroundAreas);
        Assert.Null(window.GroundExcludedShare);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(424245)]
    public void On_a_rendered_street_with_exact_labels_zone_shares_equal_a_pixel_by_pixel_count(int seed)
    {
        using var source = new EdgeSeg.Pipeline.Synthetic.SyntheticFrameSource(seed, 512, 256, 15);
        var zones = source.SuggestedZones().ToList();
        zones.Add(new Zone("overlap", [new(0.2, 0.5), new(0.8, 0.5), new(0.8, 1), new(0.2, 1)]));
        string[] names = [.. Enumerable.Range(0, 19).Select(c => $"c{c}")];
        var layout = new AreaLayout(names, zones: zones);
        var labels = new LabelMap();
        source.Read(new VideoFrame(), labels);
        var (values, _) = Measure(layout, labels.Buffer[..labels.Length], 512, 256);

        for (var z = 0; z < zones.Count; z++)
        {
            var counts = new long[19];
            for (var y = 0; y < 256; y++)
            {
                for (var x = 0; x < 512; x++)
                {
                    var l = labels.Labels[(y * 512) + x];
                    if (l < 19 && zones[z].Contains((x + 0.5) / 512, (y + 0.5) / 256))
                    {
                        counts[l]++;
                    }
                }
            }

            var total = counts.Sum();
            Assert.True(total > 0, $"zone {zones[z].Name} is empty");
            for (var c = 0; c < 19; c++)
            {
                Assert.Equal((double)counts[c] / total, values[layout.ShareIndex(z + 1, c)]);
            }
        }
    }

    [Fact]
    public void Measuring_a_frame_allocates_nothing_once_prepared()
    {
        var labels = new LabelMap(256, 128);
        new Random(3).NextBytes(labels.Buffer);
        var zones = Enumerable.Range(0, 8).Select(i => Rect($"z{i}", i / 10.0, 0.1, (i / 10.0) + 0.25, 0.9)).ToList();
        var layout = new AreaLayout(Names, [new ClassGroup("vehicle", [1, 2])], zones);
        var counter = new AreaCounter(layout);
        var values = new double[layout.ValueCount];
        for (var i = 0; i < 3; i++)
        {
            counter.Measure(labels.Labels, 256, 128, values);
        }

        // 100 frames must allocate less than one smallest object (24 bytes) per frame: the runtime's own
        // housekeeping may allocate a few bytes once, a per-frame allocation could not hide under the bound.
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            counter.Measure(labels.Labels, 256, 128, values);
        }

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100 * 24 / 4);
    }
}
