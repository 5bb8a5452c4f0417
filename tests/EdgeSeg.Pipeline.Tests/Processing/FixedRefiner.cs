using EdgeSeg.Pipeline.Processing;

namespace EdgeSeg.Pipeline.Tests.Processing;

/// <summary>A refiner that labels everything as one class, or reports that it ran out of time.</summary>
internal sealed class FixedRefiner(byte label, bool inTime) : ILabelRefiner
{
    public int Calls;

    public bool TryRefine(
        ReadOnlySpan<float> scores, int classes, int scoreHeight, int scoreWidth, ReadOnlySpan<byte> imageBgr,
        int width, int height, Span<byte> labels, long deadline)
    {
        Interlocked.Increment(ref Calls);
        labels[..(width * height)].Fill(label);
        return inTime;
    }
}
