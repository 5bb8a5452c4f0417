using EdgeSeg.Pipeline.Inference;

namespace EdgeSeg.Pipeline.Tests.Inference;

public sealed class ArgMaxTests
{
    [Theory]
    [InlineData(19, 1)]
    [InlineData(19, 15)]
    [InlineData(19, 16 * 37 + 5)]
    [InlineData(2, 1000)]
    [InlineData(1, 33)]
    [InlineData(150, 300)]
    public void The_vector_argmax_equals_a_plain_loop(int classes, int pixels)
    {
        var rng = new Random(classes * 1000 + pixels);
        var scores = new float[classes * pixels];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = (float)(rng.NextDouble() * 20 - 10);
        }

        var labels = new byte[pixels];
        ArgMax.Compute(scores, classes, labels);

        for (var p = 0; p < pixels; p++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (scores[(c * pixels) + p] > scores[(best * pixels) + p])
                {
                    best = c;
                }
            }

            Assert.Equal(best, labels[p]);
        }
    }

    [Fact]
    public void Ties_go_to_the_lower_class_id()
    {
        const int pixels = 40;
        var scores = new float[3 * pixels];
        Array.Fill(scores, 1f);
        var labels = new byte[pixels];
        ArgMax.Compute(scores, 3, labels);
        Assert.All(labels, l => Assert.Equal(0, l));
    }

    [Fact]
    public void Too_few_scores_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ArgMax.Compute(new float[10], 3, new byte[4]));
        Assert.Contains("10 scores for 3 planes of 4 pixels", e.Message, StringComparison.Ordinal);
    }
}
