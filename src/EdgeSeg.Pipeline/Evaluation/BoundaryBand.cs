using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Evaluation;

/// <summary>
/// The "trimap" band of a ground-truth map: every pixel whose Euclidean distance to a label change is at
/// most a given width. Accuracy inside the band measures how well boundaries are placed.
/// </summary>
public static class BoundaryBand
{
    /// <summary>Writes 1 into <paramref name="band"/> for pixels within <paramref name="width"/> px of a boundary, else 0.</summary>
    public static unsafe void Compute(LabelMap truth, int width, Span<byte> band)
    {
        ArgumentNullException.ThrowIfNull(truth);
        int w = truth.Width, h = truth.Height;
        var labels = truth.Labels;
        // Boundary pixels (a 4-neighbour has another label) become 0, the rest 255; the distance
        // transform then gives each pixel its distance to the nearest boundary pixel.
        using var notBoundary = new Mat(h, w, MatType.CV_8UC1, Scalar.All(255));
        for (var y = 0; y < h; y++)
        {
            var row = (byte*)notBoundary.Ptr(y);
            for (var x = 0; x < w; x++)
            {
                var l = labels[(y * w) + x];
                var edge = (x + 1 < w && labels[(y * w) + x + 1] != l) || (x > 0 && labels[(y * w) + x - 1] != l)
                           || (y + 1 < h && labels[((y + 1) * w) + x] != l) || (y > 0 && labels[((y - 1) * w) + x] != l);
                if (edge)
                {
                    row[x] = 0;
                }
            }
        }

        using var distance = new Mat();
        Cv2.DistanceTransform(notBoundary, distance, DistanceTypes.L2, DistanceTransformMasks.Precise);
        for (var y = 0; y < h; y++)
        {
            var row = (float*)distance.Ptr(y);
            for (var x = 0; x < w; x++)
            {
                band[(y * w) + x] = row[x] <= width ? (byte)1 : (byte)0;
            }
        }
    }
}
