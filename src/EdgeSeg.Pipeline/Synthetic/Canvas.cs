using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>A point in image coordinates (pixels; pixel (x, y) covers [x, x+1) × [y, y+1)).</summary>
internal readonly record struct Pt(double X, double Y);

/// <summary>
/// A flat colour (BGR, already lit) with a per-pixel grain amplitude. Grain comes from a fixed
/// noise table, so it costs one lookup per pixel and is the same for the same pixel every time.
/// </summary>
internal readonly struct Paint
{
    public Paint(double b, double g, double r, int grain)
    {
        B = ToInt(b);
        G = ToInt(g);
        R = ToInt(r);
        Grain = grain;
    }

    public int B { get; }

    public int G { get; }

    public int R { get; }

    public int Grain { get; }

    private static int ToInt(double v) => (int)Math.Clamp(Math.Round(v), -64, 400);
}

/// <summary>
/// Draws into an image and a label map at once. Every primitive decides pixel coverage once, by
/// testing the pixel centre, and writes colour and label for exactly the same pixels: labels are
/// exact because there is no anti-aliasing and nothing is drawn into one buffer but not the other.
/// </summary>
internal sealed class Canvas
{
    private const int NoiseMask = 0xFFFF;

    private readonly sbyte[] _noise;
    private byte[] _pixels = [];
    private byte[] _labels = [];
    private float[] _depth = [];
    private int _salt;

    public Canvas(ulong seed)
    {
        // Triangular distribution (sum of two uniforms) looks like film grain; a table keeps it cheap.
        _noise = new sbyte[NoiseMask + 1];
        var rng = new SceneRandom(seed);
        for (var i = 0; i < _noise.Length; i++)
        {
            var v = (rng.NextDouble() + rng.NextDouble() - 1.0) * 127.0;
            _noise[i] = (sbyte)Math.Round(v);
        }
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    public byte[] Pixels => _pixels;

    public byte[] Labels => _labels;

    /// <summary>Points the canvas at a frame's buffers; <paramref name="salt"/> shifts the grain per frame.</summary>
    public void Bind(VideoFrame frame, LabelMap labels, int salt)
    {
        Width = frame.Width;
        Height = frame.Height;
        _pixels = frame.Buffer;
        _labels = labels.Buffer;
        _salt = salt & NoiseMask;
        var n = Width * Height;
        if (_depth.Length < n)
        {
            _depth = new float[n];
        }

        // Everything drawn is nearer than "nothing yet"; the depth test then makes drawing order
        // irrelevant for occlusion between objects.
        _depth.AsSpan(0, n).Fill(float.PositiveInfinity);
    }

    /// <summary>Writes one pixel if <paramref name="depth"/> is not behind what is already there.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Put(int index, byte label, in Paint paint, float depth)
    {
        if (depth > _depth[index])
        {
            return;
        }

        _depth[index] = depth;
        _labels[index] = label;
        var n = paint.Grain == 0 ? 0 : (_noise[((index * 7) + _salt) & NoiseMask] * paint.Grain) >> 7;
        var i = index * 3;
        _pixels[i] = Clamp(paint.B + n);
        _pixels[i + 1] = Clamp(paint.G + n);
        _pixels[i + 2] = Clamp(paint.R + n);
    }

    public int NoiseAt(int index) => _noise[(index + _salt) & NoiseMask];

    /// <summary>Fills pixels [x0, x1) of row y where <paramref name="depth"/> passes the depth test.</summary>
    public void FillSpan(int y, int x0, int x1, byte label, in Paint paint, float depth)
    {
        if ((uint)y >= (uint)Height)
        {
            return;
        }

        if (x0 < 0)
        {
            x0 = 0;
        }

        if (x1 > Width)
        {
            x1 = Width;
        }

        if (x1 <= x0)
        {
            return;
        }

        var pix = _pixels;
        var lab = _labels;
        var zb = _depth;
        var noise = _noise;
        int b = paint.B, g = paint.G, r = paint.R, grain = paint.Grain;
        var rowStart = y * Width;
        for (int x = x0, k = rowStart + x0; x < x1; x++, k++)
        {
            if (depth > zb[k])
            {
                continue;
            }

            zb[k] = depth;
            lab[k] = label;
            var n = grain == 0 ? 0 : (noise[((k * 7) + _salt) & NoiseMask] * grain) >> 7;
            var i = k * 3;
            pix[i] = Clamp(b + n);
            pix[i + 1] = Clamp(g + n);
            pix[i + 2] = Clamp(r + n);
        }
    }

    /// <summary>Fills the pixels whose centres lie in [x0, x1) along row y (continuous coordinates).</summary>
    public void FillSpanF(int y, double x0, double x1, byte label, in Paint paint, float depth)
    {
        if (x1 <= x0)
        {
            return;
        }

        FillSpan(y, FirstCentre(x0), FirstCentre(x1), label, paint, depth);
    }

    public void FillRect(double x0, double y0, double x1, double y1, byte label, in Paint paint, float depth)
    {
        var ya = Math.Max(0, FirstCentre(y0));
        var yb = Math.Min(Height, FirstCentre(y1));
        if (yb <= ya || x1 <= x0)
        {
            return;
        }

        var xa = FirstCentre(x0);
        var xb = FirstCentre(x1);
        for (var y = ya; y < yb; y++)
        {
            FillSpan(y, xa, xb, label, paint, depth);
        }
    }

    /// <summary>Fills a convex polygon (any winding).</summary>
    public void FillPolygon(ReadOnlySpan<Pt> pts, byte label, in Paint paint, float depth)
    {
        if (!RowRange(pts, out var ya, out var yb))
        {
            return;
        }

        for (var y = ya; y < yb; y++)
        {
            if (SpanAt(pts, y + 0.5, out var xl, out var xr))
            {
                FillSpanF(y, xl, xr, label, paint, depth);
            }
        }
    }

    public void FillEllipse(double cx, double cy, double rx, double ry, byte label, in Paint paint, float depth)
    {
        if (rx <= 0 || ry <= 0)
        {
            return;
        }

        var ya = Math.Max(0, FirstCentre(cy - ry));
        var yb = Math.Min(Height, FirstCentre(cy + ry));
        for (var y = ya; y < yb; y++)
        {
            var t = (y + 0.5 - cy) / ry;
            var s = 1 - (t * t);
            if (s <= 0)
            {
                continue;
            }

            var half = rx * Math.Sqrt(s);
            FillSpanF(y, cx - half, cx + half, label, paint, depth);
        }
    }

    /// <summary>
    /// Scales the colour of pixels inside a convex polygon whose label is in <paramref name="labelMask"/>
    /// (bit per class id): shadows darken the image only, never the labels.
    /// </summary>
    public void ShadePolygon(ReadOnlySpan<Pt> pts, int factor256, uint labelMask)
    {
        if (!RowRange(pts, out var ya, out var yb))
        {
            return;
        }

        var pix = _pixels;
        var lab = _labels;
        for (var y = ya; y < yb; y++)
        {
            if (!SpanAt(pts, y + 0.5, out var xl, out var xr))
            {
                continue;
            }

            var xa = Math.Max(0, FirstCentre(xl));
            var xb = Math.Min(Width, FirstCentre(xr));
            var row = y * Width;
            for (var x = xa; x < xb; x++)
            {
                var l = lab[row + x];
                if (l < 32 && ((labelMask >> l) & 1) != 0)
                {
                    var i = (row + x) * 3;
                    pix[i] = (byte)((pix[i] * factor256) >> 8);
                    pix[i + 1] = (byte)((pix[i + 1] * factor256) >> 8);
                    pix[i + 2] = (byte)((pix[i + 2] * factor256) >> 8);
                }
            }
        }
    }

    /// <summary>Scales the colour of ground-like pixels [x0, x1) of row y (see <see cref="ShadePolygon"/>).</summary>
    public void ShadeSpan(int y, int x0, int x1, int factor256, uint labelMask)
    {
        if ((uint)y >= (uint)Height)
        {
            return;
        }

        x0 = Math.Max(0, x0);
        x1 = Math.Min(Width, x1);
        var row = y * Width;
        for (var x = x0; x < x1; x++)
        {
            var l = _labels[row + x];
            if (l < 32 && ((labelMask >> l) & 1) != 0)
            {
                var i = (row + x) * 3;
                _pixels[i] = (byte)((_pixels[i] * factor256) >> 8);
                _pixels[i + 1] = (byte)((_pixels[i + 1] * factor256) >> 8);
                _pixels[i + 2] = (byte)((_pixels[i + 2] * factor256) >> 8);
            }
        }
    }

    /// <summary>Index of the first pixel whose centre is at or after <paramref name="x"/>.</summary>
    public static int FirstCentre(double x)
    {
        var v = Math.Ceiling(x - 0.5);
        return v < -1e6 ? -1_000_000 : v > 1e6 ? 1_000_000 : (int)v;
    }

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    private bool RowRange(ReadOnlySpan<Pt> pts, out int ya, out int yb)
    {
        ya = yb = 0;
        if (pts.Length < 3)
        {
            return false;
        }

        double minY = double.MaxValue, maxY = double.MinValue;
        foreach (var p in pts)
        {
            if (!double.IsFinite(p.X) || !double.IsFinite(p.Y))
            {
                return false;
            }

            minY = Math.Min(minY, p.Y);
            maxY = Math.Max(maxY, p.Y);
        }

        ya = Math.Max(0, FirstCentre(minY));
        yb = Math.Min(Height, FirstCentre(maxY));
        return yb > ya;
    }

    /// <summary>Where the horizontal line at <paramref name="yc"/> enters and leaves a convex polygon.</summary>
    private static bool SpanAt(ReadOnlySpan<Pt> pts, double yc, out double xl, out double xr)
    {
        xl = double.MaxValue;
        xr = double.MinValue;
        var n = pts.Length;
        for (var i = 0; i < n; i++)
        {
            var a = pts[i];
            var b = pts[(i + 1) % n];
            if ((a.Y <= yc && b.Y > yc) || (b.Y <= yc && a.Y > yc))
            {
                var x = a.X + ((yc - a.Y) * (b.X - a.X) / (b.Y - a.Y));
                xl = Math.Min(xl, x);
                xr = Math.Max(xr, x);
            }
        }

        return xr > xl;
    }
}
