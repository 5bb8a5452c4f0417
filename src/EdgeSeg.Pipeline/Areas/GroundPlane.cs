using OpenCvSharp;

namespace EdgeSeg.Pipeline.Areas;

/// <summary>A point on the ground plane, in metres.</summary>
public readonly record struct GroundPoint(double X, double Y);

/// <summary>One calibration pair: where a ground point appears in the image (relative 0..1) and where it is (metres).</summary>
public readonly record struct GroundPair(RelativePoint Image, GroundPoint Ground);

/// <summary>The calibration cannot be used; the message says why.</summary>
public sealed class GroundCalibrationException(string message) : Exception(message)
{
    public GroundCalibrationException()
        : this("the ground calibration cannot be used")
    {
    }

    public GroundCalibrationException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// The mapping from relative image coordinates to the ground plane (metres): a homography, fitted by least
/// squares to four or more point pairs, or given exactly (a synthetic camera knows its own). From it each
/// pixel's ground area is computed once per resolution: a pixel square maps to an exact quadrilateral on
/// the ground. Pixels on or above the horizon, and pixels whose centre lies farther than
/// <see cref="MaxDistance"/> from the ground origin, get no area (and are counted as excluded).
/// </summary>
public sealed class GroundPlane
{
    private readonly double[] _g; // image (relative) -> ground, row-major 3x3
    private readonly double _validSign;

    /// <param name="imageToGround">Row-major 3x3 homography from relative image coordinates to ground metres.</param>
    /// <param name="maxDistance">Pixels whose centre maps farther than this from the ground origin get no area.</param>
    /// <param name="visible">A relative image point known to show the ground (decides which side of the horizon is ground).</param>
    public GroundPlane(ReadOnlySpan<double> imageToGround, double maxDistance, RelativePoint visible)
    {
        if (imageToGround.Length != 9)
        {
            throw new ArgumentException("a homography has 9 entries", nameof(imageToGround));
        }

        if (!(maxDistance > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxDistance), maxDistance, "the maximum distance must be positive");
        }

        _g = imageToGround.ToArray();
        if (_g.Any(v => !double.IsFinite(v)))
        {
            throw new GroundCalibrationException("the homography has entries that are not finite numbers");
        }

        MaxDistance = maxDistance;
        var w = W(visible.X, visible.Y);
        if (Math.Abs(w) < 1e-15)
        {
            throw new GroundCalibrationException("the calibration points lie on the horizon");
        }

        _validSign = Math.Sign(w);
    }

    public double MaxDistance { get; }

    /// <summary>Root mean square reprojection error of the fit, in pixels at the resolution it was fitted for (0 when exact).</summary>
    public double RmsErrorPixels { get; private init; }

    /// <summary>The largest single reprojection error, in pixels.</summary>
    public double MaxErrorPixels { get; private init; }

    /// <summary>
    /// Fits the homography to <paramref name="pairs"/> (least squares over all of them). Reprojection errors
    /// are measured in the image, in pixels of a <paramref name="width"/>×<paramref name="height"/> frame.
    /// Refuses (with the reason) fewer than four pairs, repeated points, point sets without four points in
    /// general position (collinear), and fits whose largest error exceeds <paramref name="maxErrorPixels"/>.
    /// </summary>
    public static GroundPlane Fit(IReadOnlyList<GroundPair> pairs, int width, int height, double maxErrorPixels, double maxDistance)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count < 4)
        {
            throw new GroundCalibrationException($"a homography needs at least 4 point pairs, got {pairs.Count}");
        }

        var image = pairs.Select(p => new Point2d(p.Image.X * width, p.Image.Y * height)).ToArray();
        var ground = pairs.Select(p => new Point2d(p.Ground.X, p.Ground.Y)).ToArray();
        CheckPoints(image, "image", 1e-3);
        CheckPoints(ground, "ground", 1e-3);

        // OpenCV's least-squares fit (method 0: every pair, no RANSAC) is the well-kept one; it fits
        // pixels -> metres, scaled back to relative coordinates below.
        using var h = Cv2.FindHomography(image, ground, HomographyMethods.None);
        if (h.Empty() || h.Rows != 3 || h.Cols != 3)
        {
            throw new GroundCalibrationException("no homography fits these point pairs (are they degenerate?)");
        }

        var g = new double[9];
        for (var r = 0; r < 3; r++)
        {
            // ground = H · (x·width, y·height, 1): fold the scale into the columns.
            g[(r * 3) + 0] = h.At<double>(r, 0) * width;
            g[(r * 3) + 1] = h.At<double>(r, 1) * height;
            g[(r * 3) + 2] = h.At<double>(r, 2);
        }

        var plane = new GroundPlane(g, maxDistance, pairs[0].Image);
        var inverse = Invert(g);
        double sum = 0, worst = 0;
        foreach (var p in pairs)
        {
            var (x, y, w) = Apply(inverse, p.Ground.X, p.Ground.Y);
            if (Math.Sign(plane.W(p.Image.X, p.Image.Y)) != plane._validSign || Math.Abs(w) < 1e-15)
            {
                throw new GroundCalibrationException(
                    $"point ({p.Image.X}, {p.Image.Y}) lies beyond the horizon of the fitted plane: the pairs do not describe one ground plane");
            }

            var e = Math.Sqrt(Math.Pow(((x / w) - p.Image.X) * width, 2) + Math.Pow(((y / w) - p.Image.Y) * height, 2));
            sum += e * e;
            worst = Math.Max(worst, e);
        }

        if (!(worst <= maxErrorPixels))
        {
            throw new GroundCalibrationException(
                $"reprojection error {worst:0.##} px (RMS {Math.Sqrt(sum / pairs.Count):0.##} px at {width}x{height}) exceeds the limit of {maxErrorPixels} px: check the point pairs");
        }

        return new GroundPlane(g, maxDistance, pairs[0].Image)
        {
            RmsErrorPixels = Math.Sqrt(sum / pairs.Count),
            MaxErrorPixels = worst,
        };
    }

    /// <summary>Where relative image point (x, y) lies on the ground, or null when it is on or above the horizon.</summary>
    public GroundPoint? ToGround(double x, double y)
    {
        var (gx, gy, w) = Apply(_g, x, y);
        return Math.Sign(w) == _validSign && Math.Abs(w) > 1e-15 ? new GroundPoint(gx / w, gy / w) : null;
    }

    /// <summary>
    /// The ground area of every pixel of a <paramref name="width"/>×<paramref name="height"/> label map, in
    /// square metres (0 for excluded pixels), and the share of pixels excluded.
    /// </summary>
    public (float[] Areas, double ExcludedShare) PixelAreas(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        // Pixel corners on the ground, once each (a corner is shared by four pixels).
        var cx = new double[(width + 1) * (height + 1)];
        var cy = new double[cx.Length];
        var ok = new bool[cx.Length];
        for (var y = 0; y <= height; y++)
        {
            for (var x = 0; x <= width; x++)
            {
                var i = (y * (width + 1)) + x;
                if (ToGround((double)x / width, (double)y / height) is { } p)
                {
                    (cx[i], cy[i], ok[i]) = (p.X, p.Y, true);
                }
            }
        }

        var areas = new float[width * height];
        var excluded = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                int a = (y * (width + 1)) + x, b = a + 1, c = a + width + 2, d = a + width + 1;
                var centre = ToGround((x + 0.5) / width, (y + 0.5) / height);
                if (!(ok[a] && ok[b] && ok[c] && ok[d]) || centre is not { } m || Math.Sqrt((m.X * m.X) + (m.Y * m.Y)) > MaxDistance)
                {
                    excluded++;
                    continue;
                }

                // Shoelace formula over the pixel's four corners: exact, a homography maps lines to lines.
                var area = 0.5 * Math.Abs(
                    (cx[a] * cy[b]) - (cx[b] * cy[a]) + (cx[b] * cy[c]) - (cx[c] * cy[b])
                    + (cx[c] * cy[d]) - (cx[d] * cy[c]) + (cx[d] * cy[a]) - (cx[a] * cy[d]));
                areas[(y * width) + x] = (float)area;
            }
        }

        return (areas, (double)excluded / areas.Length);
    }

    private double W(double x, double y) => (_g[6] * x) + (_g[7] * y) + _g[8];

    private static (double X, double Y, double W) Apply(double[] m, double x, double y) =>
        ((m[0] * x) + (m[1] * y) + m[2], (m[3] * x) + (m[4] * y) + m[5], (m[6] * x) + (m[7] * y) + m[8]);

    private static double[] Invert(double[] m)
    {
        var a = m[4] * m[8] - m[5] * m[7];
        var b = m[5] * m[6] - m[3] * m[8];
        var c = m[3] * m[7] - m[4] * m[6];
        var det = (m[0] * a) + (m[1] * b) + (m[2] * c);
        if (Math.Abs(det) < 1e-300)
        {
            throw new GroundCalibrationException("the fitted homography is singular");
        }

        return
        [
            a / det, ((m[2] * m[7]) - (m[1] * m[8])) / det, ((m[1] * m[5]) - (m[2] * m[4])) / det,
            b / det, ((m[0] * m[8]) - (m[2] * m[6])) / det, ((m[2] * m[3]) - (m[0] * m[5])) / det,
            c / det, ((m[1] * m[6]) - (m[0] * m[7])) / det, ((m[0] * m[4]) - (m[1] * m[3])) / det,
        ];
    }

    /// <summary>Refuses repeated points and sets without four points of which no three are collinear.</summary>
    private static void CheckPoints(Point2d[] p, string what, double tolerance)
    {
        var scale = 0.0;
        foreach (var q in p)
        {
            scale = Math.Max(scale, Math.Max(Math.Abs(q.X - p[0].X), Math.Abs(q.Y - p[0].Y)));
        }

        for (var i = 0; i < p.Length; i++)
        {
            for (var j = i + 1; j < p.Length; j++)
            {
                if (Math.Abs(p[i].X - p[j].X) <= tolerance * Math.Max(scale, 1e-9) && Math.Abs(p[i].Y - p[j].Y) <= tolerance * Math.Max(scale, 1e-9))
                {
                    throw new GroundCalibrationException($"{what} points {i} and {j} are the same point");
                }
            }
        }

        bool Collinear(int a, int b, int c) =>
            Math.Abs(((p[b].X - p[a].X) * (p[c].Y - p[a].Y)) - ((p[b].Y - p[a].Y) * (p[c].X - p[a].X))) <= tolerance * scale * scale;

        // Four points in general position are what a homography needs; search for them (the sets are small).
        for (var a = 0; a < p.Length; a++)
        {
            for (var b = a + 1; b < p.Length; b++)
            {
                for (var c = b + 1; c < p.Length; c++)
                {
                    if (Collinear(a, b, c))
                    {
                        continue;
                    }

                    for (var d = c + 1; d < p.Length; d++)
                    {
                        if (!Collinear(a, b, d) && !Collinear(a, c, d) && !Collinear(b, c, d))
                        {
                            return;
                        }
                    }
                }
            }
        }

        throw new GroundCalibrationException(
            $"the {what} points are degenerate: no four of them have three that are not on one line (points must span the ground, not a line)");
    }
}
