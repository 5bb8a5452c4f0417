using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>
/// The camera degradations of StreetSceneRenderer.Effects.cs without OpenCV: the same sensor noise,
/// then OpenCV's bit-exact 8-bit Gaussian blur and a JPEG encode/decode as OpenCV's imencode/imdecode
/// do it with libjpeg-turbo (see <see cref="GaussianBlur8U"/> and <see cref="JpegRoundTrip"/>), so the
/// frames are byte for byte those the library renders.
/// </summary>
public sealed partial class StreetSceneRenderer
{
    private void ApplyPostEffects(VideoFrame frame, long grainKey)
    {
        var s = _scene;
        var pix = frame.Buffer;
        AddSensorNoise(frame, grainKey);

        if (s.BlurSigma > 0)
        {
            GaussianBlur8U.Apply(pix, frame.Width, frame.Height, s.BlurSigma * Math.Max(1.0, Width / 1024.0));
        }

        if (s.JpegQuality > 0)
        {
            JpegRoundTrip.Apply(pix, frame.Width, frame.Height, s.JpegQuality);
        }
    }
}

/// <summary>
/// cv::GaussianBlur(src, dst, Size(0, 0), sigma) for 8-bit, 3-channel images as OpenCV computes it
/// (its bit-exact fixed-point path): kernel size round(6 sigma + 1) | 1, the Gaussian kernel in 8
/// fractional bits with error diffusion over its first half, a horizontal pass into 16 bits, a vertical
/// pass into 32 bits (16 fractional), rounded; BORDER_REFLECT_101.
/// </summary>
internal static class GaussianBlur8U
{
    public static int[] Kernel(double sigma, out int size)
    {
        size = (int)Math.Round((sigma * 3 * 2) + 1, MidpointRounding.ToEven) | 1;
        var n = size;
        var half = (n - 1) / 2;
        var scale2X = -0.125 / (sigma * sigma);
        var values = new double[half + 1];
        var sum = 0.0;
        for (int i = 0, x = 1 - n; i < half; i++, x += 2)
        {
            var t = Math.Exp((double)(x * x) * scale2X);
            values[i] = t;
            sum += t;
        }

        sum *= 2;
        sum += 1;
        var mul = 1.0 / sum;
        var k = new int[n];
        var err = 0.0;
        var total = 0;
        for (var i = 0; i < half; i++)
        {
            var adj = (values[i] * mul * 256.0) + err;
            var v = (int)Math.Round(adj, MidpointRounding.ToEven);
            err = adj - v;
            k[i] = v;
            k[n - 1 - i] = v;
            total += v;
        }

        k[half] = 256 - (2 * total);
        return k;
    }

    private static int Reflect101(int i, int n) => i < 0 ? -i : i >= n ? (2 * n) - 2 - i : i;

    public static void Apply(byte[] pix, int width, int height, double sigma)
    {
        var k = Kernel(sigma, out var n);
        if (n == 1)
        {
            return;
        }

        var r = n / 2;
        var stride = width * 3;
        var rows = new int[height * stride];
        for (var y = 0; y < height; y++)
        {
            var src = y * stride;
            for (var x = 0; x < width; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    var acc = 0;
                    for (var j = -r; j <= r; j++)
                    {
                        acc += k[j + r] * pix[src + (Reflect101(x + j, width) * 3) + c];
                    }

                    rows[src + (x * 3) + c] = acc;
                }
            }
        }

        for (var y = 0; y < height; y++)
        {
            var dst = y * stride;
            for (var i = 0; i < stride; i++)
            {
                long acc = 0;
                for (var j = -r; j <= r; j++)
                {
                    acc += (long)k[j + r] * rows[(Reflect101(y + j, height) * stride) + i];
                }

                var v = (acc + (1 << 15)) >> 16;
                pix[dst + i] = (byte)(v > 255 ? 255 : v);
            }
        }
    }
}

/// <summary>
/// A JPEG encode and decode as OpenCV's imencode(".jpg", quality) and imdecode do them with
/// libjpeg-turbo, without the entropy coding (which is lossless): BGR to YCbCr (jccolor.c), 4:2:0
/// chroma by 2x2 averages with alternating bias (jcsample.c), the integer ("islow") forward DCT
/// (jfdctint.c), quantization with the IJG tables scaled by the quality, baseline-limited, by
/// libjpeg-turbo's reciprocal multiplication (jcdctmgr.c), the integer inverse DCT (jidctint.c),
/// "fancy" triangular chroma upsampling (jdsample.c) and YCbCr to BGR (jdcolor.c).
/// </summary>
internal static class JpegRoundTrip
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;
    private const long Fix0298631336 = 2446;
    private const long Fix0390180644 = 3196;
    private const long Fix0541196100 = 4433;
    private const long Fix0765366865 = 6270;
    private const long Fix0899976223 = 7373;
    private const long Fix1175875602 = 9633;
    private const long Fix1501321110 = 12299;
    private const long Fix1847759065 = 15137;
    private const long Fix1961570560 = 16069;
    private const long Fix2053119869 = 16819;
    private const long Fix2562915447 = 20995;
    private const long Fix3072711026 = 25172;

    private static readonly int[] LuminanceBase =
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ];

    private static readonly int[] ChrominanceBase =
    [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    ];

    private static int Fix(double x) => (int)((x * (1 << 16)) + 0.5);

    /// <summary>jpeg_set_quality(quality, force_baseline: true) for one base table.</summary>
    public static int[] QuantTable(int[] basic, int quality)
    {
        quality = Math.Clamp(quality, 1, 100);
        var scale = quality < 50 ? 5000 / quality : 200 - (quality * 2);
        var t = new int[64];
        for (var i = 0; i < 64; i++)
        {
            var v = ((basic[i] * scale) + 50) / 100;
            t[i] = Math.Clamp(v, 1, 255);
        }

        return t;
    }

    /// <summary>A quantizer dividing by q * 8 the way libjpeg-turbo does (reciprocal, correction, shift).</summary>
    private readonly struct Divisor
    {
        public Divisor(int q)
        {
            var d = q << 3;
            var b = 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)d);
            var r = 16 + b;
            var fq = (1UL << r) / (ulong)d;
            var fr = (1UL << r) % (ulong)d;
            var c = (ulong)(d / 2);
            if (fr == 0)
            {
                fq >>= 1;
                r--;
            }
            else if (fr <= (ulong)(d / 2))
            {
                c++;
            }
            else
            {
                fq++;
            }

            Reciprocal = fq;
            Correction = c;
            Shift = r;
        }

        public ulong Reciprocal { get; }

        public ulong Correction { get; }

        public int Shift { get; }

        public int Apply(int v)
        {
            var a = (ulong)(v < 0 ? -v : v);
            var q = (int)(((a + Correction) * Reciprocal) >> Shift);
            return v < 0 ? -q : q;
        }
    }

    public static void Apply(byte[] bgr, int width, int height, int quality)
    {
        if (width % 16 != 0 || height % 16 != 0)
        {
            throw new NotSupportedException("JPEG round trip: width and height must be multiples of 16");
        }

        var lq = QuantTable(LuminanceBase, quality);
        var cq = QuantTable(ChrominanceBase, quality);
        var n = width * height;
        var yPlane = new byte[n];
        var cbFull = new byte[n];
        var crFull = new byte[n];
        for (var i = 0; i < n; i++)
        {
            int b = bgr[3 * i], g = bgr[(3 * i) + 1], r = bgr[(3 * i) + 2];
            yPlane[i] = (byte)(((Fix(0.29900) * r) + (Fix(0.58700) * g) + (Fix(0.11400) * b) + (1 << 15)) >> 16);
            cbFull[i] = (byte)(((-Fix(0.16874) * r) - (Fix(0.33126) * g) + (Fix(0.5) * b) + (128 << 16) + (1 << 15) - 1) >> 16);
            crFull[i] = (byte)(((Fix(0.5) * r) - (Fix(0.41869) * g) - (Fix(0.08131) * b) + (128 << 16) + (1 << 15) - 1) >> 16);
        }

        int cw = width / 2, ch = height / 2;
        var cb = Downsample(cbFull, width, height);
        var cr = Downsample(crFull, width, height);
        Code(yPlane, width, height, lq);
        Code(cb, cw, ch, cq);
        Code(cr, cw, ch, cq);
        var cbUp = Upsample(cb, cw, ch);
        var crUp = Upsample(cr, cw, ch);
        for (var i = 0; i < n; i++)
        {
            int y = yPlane[i], u = cbUp[i] - 128, v = crUp[i] - 128;
            var r = y + (int)(((Fix(1.40200) * (long)v) + (1 << 15)) >> 16);
            var g = y + (int)(((-Fix(0.34414) * (long)u) + (1 << 15) + (-Fix(0.71414) * (long)v)) >> 16);
            var b = y + (int)(((Fix(1.77200) * (long)u) + (1 << 15)) >> 16);
            bgr[3 * i] = Clamp(b);
            bgr[(3 * i) + 1] = Clamp(g);
            bgr[(3 * i) + 2] = Clamp(r);
        }
    }

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    private static byte[] Downsample(byte[] full, int width, int height)
    {
        int w = width / 2, h = height / 2;
        var o = new byte[w * h];
        for (var y = 0; y < h; y++)
        {
            var bias = 1;
            var r0 = 2 * y * width;
            var r1 = r0 + width;
            for (var x = 0; x < w; x++)
            {
                o[(y * w) + x] = (byte)((full[r0 + (2 * x)] + full[r0 + (2 * x) + 1] + full[r1 + (2 * x)] + full[r1 + (2 * x) + 1] + bias) >> 2);
                bias ^= 3;
            }
        }

        return o;
    }

    private static byte[] Upsample(byte[] c, int w, int h)
    {
        var o = new byte[4 * w * h];
        var ow = 2 * w;
        for (var y = 0; y < h; y++)
        {
            for (var v = 0; v < 2; v++)
            {
                var near = y * w;
                var far = (v == 0 ? Math.Max(y - 1, 0) : Math.Min(y + 1, h - 1)) * w;
                var outRow = ((2 * y) + v) * ow;
                var thisSum = (c[near] * 3) + c[far];
                var nextSum = (c[near + 1] * 3) + c[far + 1];
                o[outRow] = (byte)(((thisSum * 4) + 8) >> 4);
                o[outRow + 1] = (byte)(((thisSum * 3) + nextSum + 7) >> 4);
                var lastSum = thisSum;
                thisSum = nextSum;
                for (var x = 1; x < w - 1; x++)
                {
                    nextSum = (c[near + x + 1] * 3) + c[far + x + 1];
                    o[outRow + (2 * x)] = (byte)(((thisSum * 3) + lastSum + 8) >> 4);
                    o[outRow + (2 * x) + 1] = (byte)(((thisSum * 3) + nextSum + 7) >> 4);
                    lastSum = thisSum;
                    thisSum = nextSum;
                }

                o[outRow + (2 * (w - 1))] = (byte)(((thisSum * 3) + lastSum + 8) >> 4);
                o[outRow + (2 * (w - 1)) + 1] = (byte)(((thisSum * 4) + 7) >> 4);
            }
        }

        return o;
    }

    /// <summary>Forward DCT, quantization, dequantization and inverse DCT of every 8x8 block, in place.</summary>
    private static void Code(byte[] plane, int w, int h, int[] q)
    {
        var div = new Divisor[64];
        for (var i = 0; i < 64; i++)
        {
            div[i] = new Divisor(q[i]);
        }

        Span<int> block = stackalloc int[64];
        Span<long> ws = stackalloc long[64];
        for (var by = 0; by < h; by += 8)
        {
            for (var bx = 0; bx < w; bx += 8)
            {
                for (var y = 0; y < 8; y++)
                {
                    for (var x = 0; x < 8; x++)
                    {
                        block[(y * 8) + x] = plane[((by + y) * w) + bx + x] - 128;
                    }
                }

                ForwardDct(block);
                for (var i = 0; i < 64; i++)
                {
                    block[i] = div[i].Apply(block[i]) * q[i];
                }

                InverseDct(block, ws);
                for (var y = 0; y < 8; y++)
                {
                    for (var x = 0; x < 8; x++)
                    {
                        plane[((by + y) * w) + bx + x] = (byte)block[(y * 8) + x];
                    }
                }
            }
        }
    }

    private static long Descale(long x, int n) => (x + (1L << (n - 1))) >> n;

    /// <summary>
    /// The even part's rotation that the forward and the inverse transform share (islow's fixed-point
    /// constants): p' = (p + q)·c6' + p·(c2 − c6), q' = (p + q)·c6' − q·(c2 + c6), unscaled.
    /// </summary>
    private static void EvenRotation(long p, long q, out long pOut, out long qOut)
    {
        var z1 = (p + q) * Fix0541196100;
        pOut = z1 + (p * Fix0765366865);
        qOut = z1 + (q * -Fix1847759065);
    }

    /// <summary>
    /// The odd part's butterfly that the forward and the inverse transform share (islow's fixed-point
    /// constants), in place on its four inputs, unscaled: the forward transform passes its differences
    /// (d3−d4, d2−d5, d1−d6, d0−d7) and gets outputs 7, 5, 3, 1; the inverse passes coefficients 7, 5, 3, 1.
    /// </summary>
    private static void OddRotation(ref long a, ref long b, ref long c, ref long d)
    {
        var z1 = (a + d) * -Fix0899976223;
        var z2 = (b + c) * -Fix2562915447;
        var z5 = (a + c + b + d) * Fix1175875602;
        var z3 = ((a + c) * -Fix1961570560) + z5;
        var z4 = ((b + d) * -Fix0390180644) + z5;
        a = (a * Fix0298631336) + z1 + z3;
        b = (b * Fix2053119869) + z2 + z4;
        c = (c * Fix3072711026) + z2 + z3;
        d = (d * Fix1501321110) + z1 + z4;
    }

    private static void ForwardDct(Span<int> d)
    {
        for (var pass = 0; pass < 2; pass++)
        {
            var step = pass == 0 ? 1 : 8;
            var next = pass == 0 ? 8 : 1;
            for (var k = 0; k < 8; k++)
            {
                var o = k * next;
                long d0 = d[o], d1 = d[o + step], d2 = d[o + (2 * step)], d3 = d[o + (3 * step)];
                long d4 = d[o + (4 * step)], d5 = d[o + (5 * step)], d6 = d[o + (6 * step)], d7 = d[o + (7 * step)];
                long tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
                long tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
                long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
                var evenShift = pass == 0 ? ConstBits - Pass1Bits : ConstBits + Pass1Bits;
                if (pass == 0)
                {
                    d[o] = (int)((tmp10 + tmp11) << Pass1Bits);
                    d[o + (4 * step)] = (int)((tmp10 - tmp11) << Pass1Bits);
                }
                else
                {
                    d[o] = (int)Descale(tmp10 + tmp11, Pass1Bits);
                    d[o + (4 * step)] = (int)Descale(tmp10 - tmp11, Pass1Bits);
                }

                EvenRotation(tmp13, tmp12, out var even2, out var even6);
                d[o + (2 * step)] = (int)Descale(even2, evenShift);
                d[o + (6 * step)] = (int)Descale(even6, evenShift);
                OddRotation(ref tmp4, ref tmp5, ref tmp6, ref tmp7);
                d[o + (7 * step)] = (int)Descale(tmp4, evenShift);
                d[o + (5 * step)] = (int)Descale(tmp5, evenShift);
                d[o + (3 * step)] = (int)Descale(tmp6, evenShift);
                d[o + step] = (int)Descale(tmp7, evenShift);
            }
        }
    }

    /// <summary>jpeg_idct_islow on dequantized coefficients; leaves range-limited samples (0..255) in <paramref name="c"/>.</summary>
    private static void InverseDct(Span<int> c, Span<long> ws)
    {
        // Pass 1: columns of the coefficients into the work array.
        for (var col = 0; col < 8; col++)
        {
            Idct1D(c[col], c[8 + col], c[16 + col], c[24 + col], c[32 + col], c[40 + col], c[48 + col], c[56 + col],
                ConstBits - Pass1Bits, out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
            ws[col] = o0;
            ws[8 + col] = o1;
            ws[16 + col] = o2;
            ws[24 + col] = o3;
            ws[32 + col] = o4;
            ws[40 + col] = o5;
            ws[48 + col] = o6;
            ws[56 + col] = o7;
        }

        // Pass 2: rows of the work array into samples.
        for (var row = 0; row < 8; row++)
        {
            var r = row * 8;
            Idct1D(ws[r], ws[r + 1], ws[r + 2], ws[r + 3], ws[r + 4], ws[r + 5], ws[r + 6], ws[r + 7],
                ConstBits + Pass1Bits + 3, out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
            c[r] = Limit(o0);
            c[r + 1] = Limit(o1);
            c[r + 2] = Limit(o2);
            c[r + 3] = Limit(o3);
            c[r + 4] = Limit(o4);
            c[r + 5] = Limit(o5);
            c[r + 6] = Limit(o6);
            c[r + 7] = Limit(o7);
        }
    }

    /// <summary>The post-IDCT range limit: the value masked to 10 bits, read as signed, plus 128, clamped.</summary>
    private static int Limit(long v)
    {
        var m = (int)(v & 1023);
        if (m >= 512)
        {
            m -= 1024;
        }

        m += 128;
        return m < 0 ? 0 : m > 255 ? 255 : m;
    }

    private static void Idct1D(long i0, long i1, long i2, long i3, long i4, long i5, long i6, long i7, int shift,
        out long o0, out long o1, out long o2, out long o3, out long o4, out long o5, out long o6, out long o7)
    {
        EvenRotation(i2, i6, out var tmp3, out var tmp2);
        var tmp0 = (i0 + i4) << ConstBits;
        var tmp1 = (i0 - i4) << ConstBits;
        var tmp10 = tmp0 + tmp3;
        var tmp13 = tmp0 - tmp3;
        var tmp11 = tmp1 + tmp2;
        var tmp12 = tmp1 - tmp2;

        tmp0 = i7;
        tmp1 = i5;
        tmp2 = i3;
        tmp3 = i1;
        OddRotation(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

        o0 = Descale(tmp10 + tmp3, shift);
        o7 = Descale(tmp10 - tmp3, shift);
        o1 = Descale(tmp11 + tmp2, shift);
        o6 = Descale(tmp11 - tmp2, shift);
        o2 = Descale(tmp12 + tmp1, shift);
        o5 = Descale(tmp12 - tmp1, shift);
        o3 = Descale(tmp13 + tmp0, shift);
        o4 = Descale(tmp13 - tmp0, shift);
    }
}
