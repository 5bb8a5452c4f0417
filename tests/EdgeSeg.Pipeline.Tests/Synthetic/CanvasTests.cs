using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Pipeline.Tests.Synthetic;

public sealed class CanvasTests
{
    private static (Canvas Canvas, VideoFrame Frame, LabelMap Labels) NewCanvas(int w, int h)
    {
        var frame = new VideoFrame();
        frame.EnsureSize(w, h);
        var labels = new LabelMap(w, h);
        var canvas = new Canvas(1);
        canvas.Bind(frame, labels, 0);
        canvas.FillRect(0, 0, w, h, TrainId.Sky, new Paint(10, 20, 30, 0), float.PositiveInfinity);
        return (canvas, frame, labels);
    }

    [Fact]
    public void A_triangle_covers_exactly_the_pixels_whose_centres_are_inside_in_both_image_and_labels()
    {
        var (canvas, frame, labels) = NewCanvas(64, 48);
        var a = new Pt(5.3, 40.2);
        var b = new Pt(58.7, 30.9);
        var c = new Pt(20.1, 3.4);
        canvas.FillPolygon([a, b, c], TrainId.Car, new Paint(200, 100, 50, 0), 10);
        for (var y = 0; y < 48; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                var inside = Inside(a, b, c, x + 0.5, y + 0.5);
                var i = (y * 64) + x;
                Assert.Equal(inside ? TrainId.Car : TrainId.Sky, labels.Labels[i]);
                Assert.Equal(inside ? 200 : 10, frame.Pixels[i * 3]);
                Assert.Equal(inside ? 50 : 30, frame.Pixels[(i * 3) + 2]);
            }
        }
    }

    [Fact]
    public void The_nearer_shape_wins_whatever_the_drawing_order()
    {
        var (canvas, frame, labels) = NewCanvas(32, 32);
        canvas.FillRect(4, 4, 20, 20, TrainId.Person, new Paint(0, 0, 255, 0), 5);
        canvas.FillRect(10, 10, 28, 28, TrainId.Car, new Paint(255, 0, 0, 0), 9);
        var overlap = (15 * 32) + 15;
        Assert.Equal(TrainId.Person, labels.Labels[overlap]);
        Assert.Equal(255, frame.Pixels[(overlap * 3) + 2]);
        var carOnly = (25 * 32) + 25;
        Assert.Equal(TrainId.Car, labels.Labels[carOnly]);
    }

    [Fact]
    public void Shading_darkens_ground_pixels_and_leaves_labels_and_other_classes_alone()
    {
        var (canvas, frame, labels) = NewCanvas(16, 16);
        canvas.FillRect(0, 8, 16, 16, TrainId.Road, new Paint(100, 100, 100, 0), 3);
        canvas.FillRect(0, 12, 4, 16, TrainId.Car, new Paint(200, 200, 200, 0), 2);
        var before = labels.Labels.ToArray();
        canvas.ShadePolygon([new Pt(0, 0), new Pt(16, 0), new Pt(16, 16), new Pt(0, 16)], 128, 1u << TrainId.Road);
        Assert.Equal(before, labels.Labels.ToArray());
        Assert.Equal(50, frame.Pixels[((10 * 16) + 8) * 3]);
        Assert.Equal(200, frame.Pixels[((14 * 16) + 1) * 3]);
        Assert.Equal(10, frame.Pixels[((2 * 16) + 2) * 3]);
    }

    private static bool Inside(Pt a, Pt b, Pt c, double x, double y)
    {
        static double Cross(Pt p, Pt q, double x, double y) => ((q.X - p.X) * (y - p.Y)) - ((q.Y - p.Y) * (x - p.X));
        var d1 = Cross(a, b, x, y);
        var d2 = Cross(b, c, x, y);
        var d3 = Cross(c, a, x, y);
        var neg = d1 < 0 || d2 < 0 || d3 < 0;
        var pos = d1 > 0 || d2 > 0 || d3 > 0;
        return !(neg && pos);
    }
}
