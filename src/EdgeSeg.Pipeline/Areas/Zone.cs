namespace EdgeSeg.Pipeline.Areas;

/// <summary>A point in relative image coordinates: x from the left edge, y from the top, both 0..1.</summary>
public readonly record struct RelativePoint(double X, double Y);

/// <summary>
/// A named region of a camera's view: a simple polygon in relative image coordinates, so it survives a
/// change of resolution. A pixel belongs to the zone when its centre lies inside the polygon or on its
/// boundary; zones may overlap (a pixel then counts in each).
/// </summary>
public sealed class Zone
{
    private const double Epsilon = 1e-12;

    public Zone(string name, IReadOnlyList<RelativePoint> points)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(points);
        if (Problem(points) is { } problem)
        {
            throw new ArgumentException($"zone '{name}': {problem}", nameof(points));
        }

        Name = name;
        Points = [.. points];
    }

    public string Name { get; }

    public IReadOnlyList<RelativePoint> Points { get; }

    /// <summary>
    /// Why <paramref name="points"/> is not a usable zone (fewer than 3 points, a point outside 0..1, a
    /// repeated point, no area, edges that cross), or null when it is.
    /// </summary>
    public static string? Problem(IReadOnlyList<RelativePoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count < 3)
        {
            return $"a polygon needs at least 3 points, got {points.Count}";
        }

        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            if (!(p.X >= 0 && p.X <= 1 && p.Y >= 0 && p.Y <= 1))
            {
                return $"point {i} ({p.X}, {p.Y}) is outside the image: relative coordinates are 0..1";
            }

            var q = points[(i + 1) % points.Count];
            if (Math.Abs(p.X - q.X) < Epsilon && Math.Abs(p.Y - q.Y) < Epsilon)
            {
                return $"points {i} and {(i + 1) % points.Count} are the same point";
            }
        }

        var n = points.Count;
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                // Neighbouring edges share a point; every other pair must not touch.
                var adjacent = j == i + 1 || (i == 0 && j == n - 1);
                if (!adjacent && SegmentsTouch(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]))
                {
                    return $"edges {i}-{(i + 1) % n} and {j}-{(j + 1) % n} cross: the polygon intersects itself";
                }
            }
        }

        if (Math.Abs(SignedArea(points)) < 1e-9)
        {
            return "the polygon has no area (its points are collinear)";
        }

        return null;
    }

    /// <summary>
    /// The part of a convex polygon inside the image (0..1 on both axes), by clipping against each edge of
    /// the image in turn (Sutherland–Hodgman); fewer than 3 points when nothing of it is in view.
    /// </summary>
    public static List<RelativePoint> ClipToImage(IReadOnlyList<RelativePoint> convex)
    {
        ArgumentNullException.ThrowIfNull(convex);
        var points = convex.ToList();
        foreach (var (axisX, bound, keepBelow) in new[] { (true, 0.0, false), (true, 1.0, true), (false, 0.0, false), (false, 1.0, true) })
        {
            if (points.Count == 0)
            {
                break;
            }

            var clipped = new List<RelativePoint>();
            for (var i = 0; i < points.Count; i++)
            {
                var a = points[i];
                var b = points[(i + 1) % points.Count];
                double va = axisX ? a.X : a.Y, vb = axisX ? b.X : b.Y;
                bool ina = keepBelow ? va <= bound : va >= bound, inb = keepBelow ? vb <= bound : vb >= bound;
                if (ina)
                {
                    clipped.Add(a);
                }

                if (ina != inb)
                {
                    var t = (bound - va) / (vb - va);
                    clipped.Add(axisX ? new RelativePoint(bound, a.Y + (t * (b.Y - a.Y))) : new RelativePoint(a.X + (t * (b.X - a.X)), bound));
                }
            }

            points = clipped;
        }

        // Clipping can leave points that coincide; a zone wants distinct corners.
        var distinct = new List<RelativePoint>();
        foreach (var p in points)
        {
            var q = new RelativePoint(Math.Clamp(Math.Round(p.X, 4), 0, 1), Math.Clamp(Math.Round(p.Y, 4), 0, 1));
            if (distinct.Count == 0 || (distinct[^1] != q && distinct[0] != q))
            {
                distinct.Add(q);
            }
        }

        return distinct;
    }

    /// <summary>Whether (x, y) lies inside the polygon or on its boundary.</summary>
    public bool Contains(double x, double y)
    {
        var inside = false;
        var n = Points.Count;
        for (int i = 0, j = n - 1; i < n; j = i++)
        {
            var a = Points[i];
            var b = Points[j];
            if (OnSegment(a, b, x, y))
            {
                return true;
            }

            // Even-odd rule, half-open in y so that a vertex is crossed once.
            if ((a.Y > y) != (b.Y > y) && x < a.X + ((y - a.Y) * (b.X - a.X) / (b.Y - a.Y)))
            {
                inside = !inside;
            }
        }

        return inside;
    }

    private static bool OnSegment(RelativePoint a, RelativePoint b, double x, double y)
    {
        var cross = ((b.X - a.X) * (y - a.Y)) - ((b.Y - a.Y) * (x - a.X));
        var length = Math.Abs(b.X - a.X) + Math.Abs(b.Y - a.Y);
        return Math.Abs(cross) <= 1e-12 * Math.Max(length, 1e-12)
            && x >= Math.Min(a.X, b.X) - Epsilon && x <= Math.Max(a.X, b.X) + Epsilon
            && y >= Math.Min(a.Y, b.Y) - Epsilon && y <= Math.Max(a.Y, b.Y) + Epsilon;
    }

    private static double SignedArea(IReadOnlyList<RelativePoint> p)
    {
        var sum = 0.0;
        for (var i = 0; i < p.Count; i++)
        {
            var q = p[(i + 1) % p.Count];
            sum += (p[i].X * q.Y) - (q.X * p[i].Y);
        }

        return sum / 2;
    }

    private static double Orientation(RelativePoint a, RelativePoint b, RelativePoint c) =>
        ((b.X - a.X) * (c.Y - a.Y)) - ((b.Y - a.Y) * (c.X - a.X));

    private static bool SegmentsTouch(RelativePoint p1, RelativePoint p2, RelativePoint q1, RelativePoint q2)
    {
        var d1 = Orientation(q1, q2, p1);
        var d2 = Orientation(q1, q2, p2);
        var d3 = Orientation(p1, p2, q1);
        var d4 = Orientation(p1, p2, q2);
        if (((d1 > Epsilon && d2 < -Epsilon) || (d1 < -Epsilon && d2 > Epsilon))
            && ((d3 > Epsilon && d4 < -Epsilon) || (d3 < -Epsilon && d4 > Epsilon)))
        {
            return true;
        }

        return (Math.Abs(d1) <= Epsilon && Within(q1, q2, p1))
            || (Math.Abs(d2) <= Epsilon && Within(q1, q2, p2))
            || (Math.Abs(d3) <= Epsilon && Within(p1, p2, q1))
            || (Math.Abs(d4) <= Epsilon && Within(p1, p2, q2));
    }

    private static bool Within(RelativePoint a, RelativePoint b, RelativePoint p) =>
        p.X >= Math.Min(a.X, b.X) - Epsilon && p.X <= Math.Max(a.X, b.X) + Epsilon
        && p.Y >= Math.Min(a.Y, b.Y) - Epsilon && p.Y <= Math.Max(a.Y, b.Y) + Epsilon;
}
