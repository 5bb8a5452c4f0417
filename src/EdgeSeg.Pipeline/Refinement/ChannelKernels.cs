using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// Inner loops over channel-last points (<c>stride</c> floats each, a multiple of
/// <see cref="Vector{T}.Count"/>). Each keeps up to eight independent accumulators (four vectors of
/// a point × two sums) so that FMA latency is hidden; a single running sum per vector would leave
/// these loops four times slower.
/// </summary>
internal static unsafe class ChannelKernels
{
    /// <summary>
    /// Two weighted sums over the same inputs: out0 = s0·Σ_u w0[u]·src(u), out1 = s1·Σ_u w1[u]·src(u),
    /// u in [u0, u1], src(u) = <paramref name="src"/> + u·<paramref name="pointStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DualDot(
        float* src, long pointStride, int u0, int u1, float* w0, float* w1, float* out0, float* out1,
        int stride, float s0, float s1)
    {
        var vw = Vector<float>.Count;
        for (var k = 0; k < stride; k += 4 * vw)
        {
            var nv = Math.Min(4, (stride - k) / vw);
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (var u = u0; u <= u1; u++)
            {
                var p = src + (u * pointStride) + k;
                var wa = new Vector<float>(w0[u]);
                var wb = new Vector<float>(w1[u]);
                var v = Vector.Load(p);
                a0 = Vector.FusedMultiplyAdd(v, wa, a0);
                b0 = Vector.FusedMultiplyAdd(v, wb, b0);
                if (nv > 1)
                {
                    v = Vector.Load(p + vw);
                    a1 = Vector.FusedMultiplyAdd(v, wa, a1);
                    b1 = Vector.FusedMultiplyAdd(v, wb, b1);
                }

                if (nv > 2)
                {
                    v = Vector.Load(p + (2 * vw));
                    a2 = Vector.FusedMultiplyAdd(v, wa, a2);
                    b2 = Vector.FusedMultiplyAdd(v, wb, b2);
                }

                if (nv > 3)
                {
                    v = Vector.Load(p + (3 * vw));
                    a3 = Vector.FusedMultiplyAdd(v, wa, a3);
                    b3 = Vector.FusedMultiplyAdd(v, wb, b3);
                }
            }

            var f0 = new Vector<float>(s0);
            var f1 = new Vector<float>(s1);
            Store(out0 + k, nv, a0 * f0, a1 * f0, a2 * f0, a3 * f0);
            Store(out1 + k, nv, b0 * f1, b1 * f1, b2 * f1, b3 * f1);
        }
    }

    /// <summary>
    /// Weighted gather: out = Σ_e weights[e]·src(points[e]) over e in [e0, e1), even and odd
    /// entries summed apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather(float* src, int* points, float* weights, int e0, int e1, float* output, int stride)
    {
        var vw = Vector<float>.Count;
        for (var k = 0; k < stride; k += 4 * vw)
        {
            var nv = Math.Min(4, (stride - k) / vw);
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector<float> b0 = default, b1 = default, b2 = default, b3 = default;
            var e = e0;
            for (; e + 1 < e1; e += 2)
            {
                var p = src + ((long)points[e] * stride) + k;
                var q = src + ((long)points[e + 1] * stride) + k;
                var wa = new Vector<float>(weights[e]);
                var wb = new Vector<float>(weights[e + 1]);
                a0 = Vector.FusedMultiplyAdd(Vector.Load(p), wa, a0);
                b0 = Vector.FusedMultiplyAdd(Vector.Load(q), wb, b0);
                if (nv > 1)
                {
                    a1 = Vector.FusedMultiplyAdd(Vector.Load(p + vw), wa, a1);
                    b1 = Vector.FusedMultiplyAdd(Vector.Load(q + vw), wb, b1);
                }

                if (nv > 2)
                {
                    a2 = Vector.FusedMultiplyAdd(Vector.Load(p + (2 * vw)), wa, a2);
                    b2 = Vector.FusedMultiplyAdd(Vector.Load(q + (2 * vw)), wb, b2);
                }

                if (nv > 3)
                {
                    a3 = Vector.FusedMultiplyAdd(Vector.Load(p + (3 * vw)), wa, a3);
                    b3 = Vector.FusedMultiplyAdd(Vector.Load(q + (3 * vw)), wb, b3);
                }
            }

            if (e < e1)
            {
                var p = src + ((long)points[e] * stride) + k;
                var wa = new Vector<float>(weights[e]);
                a0 = Vector.FusedMultiplyAdd(Vector.Load(p), wa, a0);
                a1 = nv > 1 ? Vector.FusedMultiplyAdd(Vector.Load(p + vw), wa, a1) : a1;
                a2 = nv > 2 ? Vector.FusedMultiplyAdd(Vector.Load(p + (2 * vw)), wa, a2) : a2;
                a3 = nv > 3 ? Vector.FusedMultiplyAdd(Vector.Load(p + (3 * vw)), wa, a3) : a3;
            }

            Store(output + k, nv, a0 + b0, a1 + b1, a2 + b2, a3 + b3);
        }
    }

    /// <summary>
    /// Slice at one point: out = scale·Σ_c w[c]·lattice(ids[c]) over the 6 simplex corners
    /// (corners 0–2 and 3–5 summed apart), plus <paramref name="addA"/> and <paramref name="addB"/>
    /// when not null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Slice(float* lattice, int* ids, float* w, float scale, float* addA, float* addB, float* output, int stride)
    {
        var vw = Vector<float>.Count;
        var p0 = lattice + ((long)ids[0] * stride);
        var p1 = lattice + ((long)ids[1] * stride);
        var p2 = lattice + ((long)ids[2] * stride);
        var p3 = lattice + ((long)ids[3] * stride);
        var p4 = lattice + ((long)ids[4] * stride);
        var p5 = lattice + ((long)ids[5] * stride);
        var w0 = new Vector<float>(w[0] * scale);
        var w1 = new Vector<float>(w[1] * scale);
        var w2 = new Vector<float>(w[2] * scale);
        var w3 = new Vector<float>(w[3] * scale);
        var w4 = new Vector<float>(w[4] * scale);
        var w5 = new Vector<float>(w[5] * scale);
        for (var k = 0; k < stride; k += vw)
        {
            var a = Vector.Load(p0 + k) * w0;
            var b = Vector.Load(p3 + k) * w3;
            a = Vector.FusedMultiplyAdd(Vector.Load(p1 + k), w1, a);
            b = Vector.FusedMultiplyAdd(Vector.Load(p4 + k), w4, b);
            a = Vector.FusedMultiplyAdd(Vector.Load(p2 + k), w2, a);
            b = Vector.FusedMultiplyAdd(Vector.Load(p5 + k), w5, b);
            var sum = a + b;
            if (addA != null)
            {
                sum += Vector.Load(addA + k);
            }

            if (addB != null)
            {
                sum += Vector.Load(addB + k);
            }

            sum.Store(output + k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* target, int nv, Vector<float> v0, Vector<float> v1, Vector<float> v2, Vector<float> v3)
    {
        var vw = Vector<float>.Count;
        v0.Store(target);
        if (nv > 1)
        {
            v1.Store(target + vw);
        }

        if (nv > 2)
        {
            v2.Store(target + (2 * vw));
        }

        if (nv > 3)
        {
            v3.Store(target + (3 * vw));
        }
    }
}
