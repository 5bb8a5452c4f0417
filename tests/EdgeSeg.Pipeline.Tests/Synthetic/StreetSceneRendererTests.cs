using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Pipeline.Tests.Synthetic;

public sealed class StreetSceneRendererTests
{
    private static (VideoFrame Frame, LabelMap Labels) Render(long seed, long index, int width = 512, int height = 256, bool effects = true)
    {
        var renderer = new StreetSceneRenderer(seed, width, height) { PostEffects = effects };
        var frame = new VideoFrame();
        var labels = new LabelMap();
        renderer.Render(index, 15, frame, labels);
        return (frame, labels);
    }

    [Fact]
    public void The_same_seed_and_frame_index_give_identical_frames_and_labels()
    {
        foreach (var seed in new long[] { 0, 7, 123_456 })
        {
            foreach (var index in new long[] { 0, 29 })
            {
                var a = Render(seed, index);
                var b = Render(seed, index);
                Assert.True(a.Frame.Pixels.SequenceEqual(b.Frame.Pixels), $"frame differs for seed {seed}, index {index}");
                Assert.True(a.Labels.Labels.SequenceEqual(b.Labels.Labels), $"labels differ for seed {seed}, index {index}");
            }
        }
    }

    [Fact]
    public void Rendering_into_reused_buffers_gives_the_same_bytes_as_fresh_buffers()
    {
        var renderer = new StreetSceneRenderer(11, 320, 160);
        var frame = new VideoFrame();
        var labels = new LabelMap();
        renderer.Render(40, 15, frame, labels);
        renderer.Render(3, 15, frame, labels);
        var fresh = Render(11, 3, 320, 160);
        Assert.True(frame.Pixels.SequenceEqual(fresh.Frame.Pixels));
        Assert.True(labels.Labels.SequenceEqual(fresh.Labels.Labels));
    }

    [Fact]
    public void Different_seeds_give_different_streets()
    {
        var a = Render(1, 0);
        var b = Render(2, 0);
        var differing = 0;
        var la = a.Labels.Labels;
        var lb = b.Labels.Labels;
        for (var i = 0; i < la.Length; i++)
        {
            differing += la[i] != lb[i] ? 1 : 0;
        }

        Assert.True(differing > la.Length / 10, $"only {differing} of {la.Length} labels differ");
    }

    [Fact]
    public void Traffic_moves_between_frames_while_the_street_stays()
    {
        var a = Render(5, 0, effects: false);
        var b = Render(5, 30, effects: false);
        int movedVehicles = 0, movedStatic = 0;
        var la = a.Labels.Labels;
        var lb = b.Labels.Labels;
        for (var i = 0; i < la.Length; i++)
        {
            if (la[i] == lb[i])
            {
                continue;
            }

            if (IsMoving(la[i]) || IsMoving(lb[i]))
            {
                movedVehicles++;
            }
            else
            {
                movedStatic++;
            }
        }

        Assert.True(movedVehicles > 200, $"{movedVehicles} pixels changed through moving objects");
        // Static classes only change where a moving object uncovered or covered them.
        Assert.Equal(0, movedStatic);

        static bool IsMoving(byte id) => id is TrainId.Car or TrainId.Truck or TrainId.Bus or TrainId.Motorcycle
            or TrainId.Bicycle or TrainId.Person or TrainId.Rider;
    }

    [Fact]
    public void Every_pixel_gets_one_of_the_drawn_classes()
    {
        var drawn = TrainId.Drawn.ToHashSet();
        for (var seed = 0; seed < 12; seed++)
        {
            var (_, labels) = Render(seed, seed * 3, 256, 128);
            foreach (var id in labels.Labels)
            {
                Assert.Contains(id, drawn);
            }
        }
    }

    [Fact]
    public void Every_class_the_renderer_claims_to_draw_appears_over_a_range_of_seeds()
    {
        var seen = new long[256];
        var scenesWith = new int[256];
        const int Seeds = 40;
        for (var seed = 0; seed < Seeds; seed++)
        {
            var (_, labels) = Render(seed, 10, 512, 256, effects: false);
            var here = new bool[256];
            foreach (var id in labels.Labels)
            {
                seen[id]++;
                here[id] = true;
            }

            for (var id = 0; id < 256; id++)
            {
                scenesWith[id] += here[id] ? 1 : 0;
            }
        }

        foreach (var id in TrainId.Drawn)
        {
            Assert.True(seen[id] > 0, $"class {id} never appeared in {Seeds} seeds");
        }

        // The small classes that matter for mIoU show up in most scenes, not once in a while.
        foreach (var id in new[] { TrainId.Pole, TrainId.TrafficSign, TrainId.TrafficLight, TrainId.Person, TrainId.Car, TrainId.Vegetation })
        {
            Assert.True(scenesWith[id] >= Seeds * 3 / 4, $"class {id} is in only {scenesWith[id]} of {Seeds} scenes");
        }

        Assert.Equal(0, seen[TrainId.Train]);
        Assert.Equal(0, seen[LabelMap.Ignore]);
    }

    [Fact]
    public void Post_effects_change_the_image_but_never_the_labels()
    {
        // Seed chosen among the first few whose scene has noise, blur or JPEG (all but a few do).
        var plain = Render(3, 4, effects: false);
        var degraded = Render(3, 4, effects: true);
        Assert.True(plain.Labels.Labels.SequenceEqual(degraded.Labels.Labels));
        Assert.False(plain.Frame.Pixels.SequenceEqual(degraded.Frame.Pixels));
    }

    [Fact]
    public void Label_edges_are_colour_edges()
    {
        // Without post effects every pixel shows the paint of the object that won it; where the label
        // changes between neighbours the colour must (almost always) change too, and a class cannot
        // bleed into its neighbour by even one pixel without this failing.
        for (var seed = 20; seed < 26; seed++)
        {
            var (frame, labels) = Render(seed, 5, effects: false);
            var px = frame.Pixels;
            var lab = labels.Labels;
            int edges = 0, colourEdges = 0;
            for (var y = 0; y < frame.Height; y++)
            {
                for (var x = 1; x < frame.Width; x++)
                {
                    var i = (y * frame.Width) + x;
                    if (lab[i] == lab[i - 1])
                    {
                        continue;
                    }

                    edges++;
                    var d = Math.Abs(px[i * 3] - px[(i - 1) * 3]) + Math.Abs(px[(i * 3) + 1] - px[((i - 1) * 3) + 1]) + Math.Abs(px[(i * 3) + 2] - px[((i - 1) * 3) + 2]);
                    colourEdges += d > 6 ? 1 : 0;
                }
            }

            Assert.True(edges > 500, $"seed {seed}: only {edges} label edges");
            Assert.True(colourEdges >= edges * 0.85, $"seed {seed}: {colourEdges} of {edges} label edges have a colour edge");
        }
    }

    [Fact]
    public void Class_colours_look_like_what_the_labels_say_in_daylight()
    {
        // Statistics over many day scenes: vegetation is green, the road is a neutral grey, the
        // sky is brighter than the road, lit red tail lights aside.
        long vegG = 0, vegB = 0, vegN = 0, roadSat = 0, roadN = 0, skyL = 0, skyN = 0, roadL = 0;
        for (var seed = 0; seed < 30; seed++)
        {
            var (frame, labels) = Render(seed, 0, 256, 128, effects: false);
            var px = frame.Pixels;
            var lab = labels.Labels;
            for (var i = 0; i < lab.Length; i++)
            {
                int b = px[i * 3], g = px[(i * 3) + 1], r = px[(i * 3) + 2];
                switch (lab[i])
                {
                    case TrainId.Vegetation:
                        vegG += g;
                        vegB += b;
                        vegN++;
                        break;
                    case TrainId.Road:
                        roadSat += Math.Max(b, Math.Max(g, r)) - Math.Min(b, Math.Min(g, r));
                        roadL += g;
                        roadN++;
                        break;
                    case TrainId.Sky:
                        skyL += g;
                        skyN++;
                        break;
                }
            }
        }

        Assert.True(vegN > 0 && roadN > 0 && skyN > 0);
        Assert.True(vegG > vegB * 1.3, "vegetation is not green");
        Assert.True(roadSat / (double)roadN < 25, $"road saturation {roadSat / (double)roadN:F1}");
        Assert.True(skyL / (double)skyN > roadL / (double)roadN, "sky is not brighter than the road");
    }

    [Fact]
    public void Works_at_odd_sizes_and_writes_the_frame_metadata_size()
    {
        var (frame, labels) = Render(9, 2, 333, 97);
        Assert.Equal(333, frame.Width);
        Assert.Equal(97, frame.Height);
        Assert.Equal(333, labels.Width);
        Assert.Equal(97, labels.Height);
    }

    [Fact]
    public void Rejects_bad_sizes_and_frame_rates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreetSceneRenderer(0, 8, 256));
        var r = new StreetSceneRenderer(0, 64, 32);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Render(0, 0, new VideoFrame(), new LabelMap()));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Render(-1, 15, new VideoFrame(), new LabelMap()));
    }
}
