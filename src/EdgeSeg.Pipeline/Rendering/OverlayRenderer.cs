using System.Globalization;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Rendering;

/// <summary>
/// Draws a label map over its frame in the label set's colours, with a legend of the classes present
/// and their share of the view. For snapshots and documentation, not the hot path.
/// </summary>
public static class OverlayRenderer
{
    /// <summary>
    /// Returns a new BGR image: the frame blended with the colourised labels (<paramref name="opacity"/>
    /// of colour), plus a legend. <paramref name="labels"/> may be at any resolution; it is mapped to the
    /// frame by nearest neighbour.
    /// </summary>
    public static unsafe Mat Render(VideoFrame frame, LabelMap labels, LabelSet labelSet, double opacity = 0.55, bool legend = true)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(labelSet);
        var atFrame = new LabelMap(frame.Width, frame.Height);
        LabelResize.Nearest(labels, atFrame);

        var image = new Mat(frame.Height, frame.Width, MatType.CV_8UC3);
        var counts = new long[labelSet.Count];
        var a = (float)Math.Clamp(opacity, 0, 1);
        var px = frame.Pixels;
        var l = atFrame.Labels;
        for (var y = 0; y < frame.Height; y++)
        {
            var row = (byte*)image.Ptr(y);
            for (var x = 0; x < frame.Width; x++)
            {
                var i = (y * frame.Width) + x;
                var o = x * 3;
                var label = l[i];
                if (label >= labelSet.Count)
                {
                    row[o] = px[i * 3];
                    row[o + 1] = px[(i * 3) + 1];
                    row[o + 2] = px[(i * 3) + 2];
                    continue;
                }

                counts[label]++;
                var c = labelSet.Palette[label];
                row[o] = (byte)((px[i * 3] * (1 - a)) + (c.B * a));
                row[o + 1] = (byte)((px[(i * 3) + 1] * (1 - a)) + (c.G * a));
                row[o + 2] = (byte)((px[(i * 3) + 2] * (1 - a)) + (c.R * a));
            }
        }

        if (legend)
        {
            DrawLegend(image, labelSet, counts, l.Length);
        }

        return image;
    }

    /// <summary>Outlines each zone on <paramref name="image"/> with its name at its top edge.</summary>
    public static void DrawZones(Mat image, IReadOnlyList<Areas.Zone> zones)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(zones);
        var scale = Math.Clamp(image.Height / 900.0, 0.3, 0.7);
        foreach (var zone in zones)
        {
            var points = zone.Points.Select(p => new Point(p.X * (image.Width - 1), p.Y * (image.Height - 1))).ToArray();
            // A dark halo under a bright line stays visible on any colour.
            Cv2.Polylines(image, [points], isClosed: true, Scalar.All(0), 4, LineTypes.AntiAlias);
            Cv2.Polylines(image, [points], isClosed: true, new Scalar(0, 255, 255), 2, LineTypes.AntiAlias);
            // The name centred on the zone's centre of mass (its vertices' mean: zones are small polygons).
            var size = Cv2.GetTextSize(zone.Name, HersheyFonts.HersheySimplex, scale, 1, out _);
            var cx = (int)points.Average(p => p.X);
            var cy = (int)points.Average(p => p.Y);
            var at = new Point(Math.Clamp(cx - (size.Width / 2), 2, Math.Max(2, image.Width - size.Width - 2)), Math.Clamp(cy + (size.Height / 2), size.Height + 2, image.Height - 2));
            Cv2.PutText(image, zone.Name, at, HersheyFonts.HersheySimplex, scale, Scalar.All(0), 3, LineTypes.AntiAlias);
            Cv2.PutText(image, zone.Name, at, HersheyFonts.HersheySimplex, scale, new Scalar(0, 255, 255), 1, LineTypes.AntiAlias);
        }
    }

    private static void DrawLegend(Mat image, LabelSet labels, long[] counts, long total)
    {
        var present = Enumerable.Range(0, labels.Count)
            .Where(c => counts[c] * 1000 >= total)
            .OrderByDescending(c => counts[c])
            .ToList();
        if (present.Count == 0)
        {
            return;
        }

        var scale = Math.Clamp(image.Height / 700.0, 0.35, 0.8);
        var line = (int)(26 * scale / 0.6);
        var width = (int)(210 * scale / 0.6);
        var height = (line * present.Count) + 8;
        var box = new Rect(6, 6, Math.Min(width, image.Width - 12), Math.Min(height, image.Height - 12));
        using (var roi = new Mat(image, box))
        using (var dark = new Mat(roi.Size(), roi.Type(), Scalar.All(0)))
        {
            Cv2.AddWeighted(roi, 0.35, dark, 0.65, 0, roi);
        }

        for (var k = 0; k < present.Count; k++)
        {
            var c = present[k];
            var y = box.Y + 4 + (k * line);
            if (y + line > box.Bottom)
            {
                break;
            }

            var colour = labels.Palette[c];
            Cv2.Rectangle(image, new Rect(box.X + 6, y + 3, line - 8, line - 8), new Scalar(colour.B, colour.G, colour.R), -1);
            var text = string.Create(CultureInfo.InvariantCulture, $"{labels.ClassNames[c]} {100.0 * counts[c] / total:0.0}%");
            Cv2.PutText(image, text, new Point(box.X + line + 2, y + line - 8), HersheyFonts.HersheySimplex, scale, Scalar.All(255), 1, LineTypes.AntiAlias);
        }
    }
}
