using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Pipeline.Tests.Areas;

/// <summary>Ground areas from a fitted homography against the renderer's camera, integrated in closed form.</summary>
public sealed class GroundPlaneTests
{
    private const int Width = 512;
    private const int Height = 256;
    private const double MaxDistance = 60;

    private static readonly string[] Classes =
    [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain",
        "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ];

    /// <summary>Point pairs from the renderer's camera: ground points on a grid, their image points rounded to 0.01 px.</summary>
    private static List<GroundPair> Pairs(SyntheticGroundTruth truth, int count)
    {
        var pairs = new List<GroundPair>();
        double[] xs = [-6, 4, -2, 7, 0, -5];
        double[] ys = [8, 9, 20, 30, 14, 40];
        for (var i = 0; i < count; i++)
        {
            var p = truth.ToImage(xs[i], ys[i], Width, Height);
            var x = Math.Round(p.X * Width, 2) / Width;
            var y = Math.Round(p.Y * Height, 2) / Height;
            pairs.Add(new GroundPair(new RelativePoint(x, y), new GroundPoint(xs[i], ys[i])));
        }

        return pairs;
    }

    [Theory]
    [InlineData(3, 4)]
    [InlineData(11, 6)]
    [InlineData(424242, 5)]
    public void Square_metres_per_ground_class_from_exact_labels_are_within_one_percent_of_the_exact_areas(int seed, int points)
    {
        var renderer = new StreetSceneRenderer(seed, Width, Height) { PostEffects = false };
        var frame = new VideoFrame();
        var labels = new LabelMap();
        renderer.Render(30, 15, frame, labels);

        var plane = GroundPlane.Fit(Pairs(renderer.Ground, points), Width, Height, maxErrorPixels: 1, MaxDistance);
        var layout = new AreaLayout(Classes, ground: plane);
        var values = new double[layout.ValueCount];
        new AreaCounter(layout).Measure(labels.Labels, Width, Height, values);

        var exact = renderer.Ground.ExactPixelAreas(Width, Height, MaxDistance);
        foreach (var name in new[] { "road", "sidewalk", "car" })
        {
            var c = Array.IndexOf(Classes, name);
            var truth = 0.0;
            for (var i = 0; i < exact.Length; i++)
            {
                if (labels.Labels[i] == c)
                {
                    truth += exact[i];
                }
            }

            var measured = values[layout.AreaIndex(0, c)];
            if (name == "road")
            {
                Assert.True(truth > 50, $"seed {seed}: only {truth:0.#} m² of road in view");
            }

            Assert.True(Math.Abs(measured - truth) <= (0.01 * truth) + 1e-9, $"seed {seed} {name}: {measured:0.###} m² against {truth:0.###} m²");
        }

        Assert.True(plane.MaxErrorPixels < 0.05, $"reprojection error {plane.MaxErrorPixels} px");
    }

    [Fact]
    public void The_exact_homography_gives_every_pixel_its_closed_form_area()
    {
        var truth = new StreetSceneRenderer(3, 160, 80).Ground;
        var (areas, excluded) = truth.Plane(160, 80, MaxDistance).PixelAreas(160, 80);
        var exact = truth.ExactPixelAreas(160, 80, MaxDistance);
        var both = 0;
        for (var i = 0; i < exact.Length; i++)
        {
            if (exact[i] > 0 && areas[i] > 0)
            {
                both++;
                Assert.Equal(exact[i], areas[i], exact[i] * 1e-5);
            }
        }

        Assert.True(both > 160 * 20, $"{both} pixels with ground area");
        Assert.InRange(excluded, 0.2, 0.9);
    }

    [Fact]
    public void Pixels_above_the_horizon_have_no_area()
    {
        var truth = new StreetSceneRenderer(3, 128, 64).Ground;
        var (areas, _) = truth.Plane(128, 64, 1e6).PixelAreas(128, 64);
        var horizonRow = (int)Math.Floor(truth.HorizonY * 64);
        for (var y = 0; y <= horizonRow; y++)
        {
            for (var x = 0; x < 128; x++)
            {
                Assert.Equal(0, areas[(y * 128) + x]);
            }
        }

        Assert.True(areas[^1] > 0);
    }

    [Theory]
    [InlineData("collinear", "degenerate")]
    [InlineData("duplicate", "same point")]
    [InlineData("three", "at least 4 point pairs")]
    public void A_degenerate_point_set_is_refused_with_a_clear_message(string kind, string message)
    {
        var truth = new StreetSceneRenderer(3, Width, Height).Ground;
        var pairs = kind switch
        {
            // Four points on one line across the road.
            "collinear" => Enumerable.Range(0, 4).Select(i => new GroundPair(truth.ToImage(-3 + (2 * i), 10, Width, Height), new GroundPoint(-3 + (2 * i), 10))).ToList(),
            "duplicate" => [.. Pairs(truth, 4).Take(3), Pairs(truth, 4)[2]],
            _ => Pairs(truth, 3),
        };
        var e = Assert.Throws<GroundCalibrationException>(() => GroundPlane.Fit(pairs, Width, Height, 3, MaxDistance));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fit_whose_points_disagree_is_refused_with_its_reprojection_error()
    {
        var truth = new StreetSceneRenderer(3, Width, Height).Ground;
        var pairs = Pairs(truth, 6);
        // One ground point measured 3 m off.
        pairs[5] = pairs[5] with { Ground = new GroundPoint(pairs[5].Ground.X + 3, pairs[5].Ground.Y) };
        var e = Assert.Throws<GroundCalibrationException>(() => GroundPlane.Fit(pairs, Width, Height, 1, MaxDistance));
        Assert.Matches(@"reprojection error [0-9.]+ px \(RMS [0-9.]+ px at 512x256\) exceeds the limit of 1 px", e.Message);
        var loose = GroundPlane.Fit(pairs, Width, Height, 100, MaxDistance);
        Assert.True(loose.MaxErrorPixels > 1);
    }

    [Fact]
    public void Zones_get_their_own_square_metres()
    {
        var renderer = new StreetSceneRenderer(5, 256, 128) { PostEffects = false };
        var labels = new LabelMap();
        renderer.Render(0, 15, new VideoFrame(), labels);
        var bottom = new Zone("bottom", [new(0, 0.75), new(1, 0.75), new(1, 1), new(0, 1)]);
        var layout = new AreaLayout(Classes, zones: [bottom], ground: renderer.Ground.Plane(256, 128, MaxDistance));
        var values = new double[layout.ValueCount];
        new AreaCounter(layout).Measure(labels.Labels, 256, 128, values);

        var exact = renderer.Ground.ExactPixelAreas(256, 128, MaxDistance);
        var road = 0.0;
        for (var i = 96 * 256; i < exact.Length; i++)
        {
            road += labels.Labels[i] == 0 ? exact[i] : 0;
        }

        Assert.Equal(road, values[layout.AreaIndex(1, 0)], road * 1e-5);
        Assert.True(values[layout.AreaIndex(0, 0)] >= values[layout.AreaIndex(1, 0)]);
    }
}
