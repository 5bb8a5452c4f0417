using System.Numerics;
using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

public sealed class VectorMathTests
{
    [Fact]
    public void Polynomial_exp_stays_within_its_stated_relative_error()
    {
        // Every softmax of the mean-field updates runs through this exp; its documentation promises
        // a relative error below 4e-6 over the range the scores reach.
        var lanes = Vector<float>.Count;
        var input = new float[lanes];
        var worst = 0.0;
        for (var x = -87f; x <= 88f; x += 0.01f * lanes)
        {
            for (var i = 0; i < lanes; i++)
            {
                input[i] = x + (0.01f * i);
            }

            var result = VectorMath.Exp(new Vector<float>(input));
            for (var i = 0; i < lanes; i++)
            {
                var exact = Math.Exp(input[i]);
                worst = Math.Max(worst, Math.Abs(result[i] - exact) / exact);
            }
        }

        Assert.True(worst < 4e-6, $"largest relative error {worst:E2}");
    }

    [Fact]
    public void Polynomial_exp_of_padding_lanes_is_zero_and_clamps_above()
    {
        var result = VectorMath.Exp(new Vector<float>(-1e30f));
        Assert.Equal(0f, result[0]);
        Assert.True(float.IsFinite(VectorMath.Exp(new Vector<float>(1000f))[0]));
        Assert.Equal(1f, VectorMath.Exp(Vector<float>.Zero)[0]);
    }

    [Fact]
    public void Horizontal_max_finds_the_largest_lane()
    {
        var lanes = Vector<float>.Count;
        for (var hot = 0; hot < lanes; hot++)
        {
            var values = new float[lanes];
            for (var i = 0; i < lanes; i++)
            {
                values[i] = i == hot ? 5f : -i;
            }

            Assert.Equal(5f, VectorMath.HorizontalMax(new Vector<float>(values)));
        }
    }
}
