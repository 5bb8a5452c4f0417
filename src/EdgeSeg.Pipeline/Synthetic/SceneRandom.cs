namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>
/// A small, explicitly specified generator (SplitMix64) so that a scene depends only on its seed:
/// System.Random's seeded sequence is an implementation detail that may change between runtimes.
/// </summary>
internal sealed class SceneRandom
{
    private ulong _state;

    public SceneRandom(ulong seed) => _state = seed;

    public SceneRandom(long seed, ulong stream)
        : this(Mix((ulong)seed ^ Mix(stream + 0x9E3779B97F4A7C15UL)))
    {
    }

    /// <summary>The SplitMix64 finaliser: a good 64-bit hash on its own.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double Range(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [min, max).</summary>
    public int Int(int min, int max) => min + (int)((NextUInt64() >> 33) % (ulong)(max - min));

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Picks an index with probability proportional to its weight.</summary>
    public int Pick(ReadOnlySpan<double> weights)
    {
        var total = 0.0;
        foreach (var w in weights)
        {
            total += w;
        }

        var r = NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            r -= weights[i];
            if (r < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    /// <summary>An independent generator derived from this one, so adding draws in one part of a scene
    /// does not shift everything generated after it.</summary>
    public SceneRandom Fork(ulong stream) => new(Mix(NextUInt64() ^ Mix(stream)));
}
