using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Processing;

namespace EdgeSeg.Pipeline.Tests.Processing;

/// <summary>A refiner that labels everything as one class, or reports that it ran out of time.</summary>
internal sealed class FixedRefiner(byte label, bool inTime) : ILabelRefiner
{
    public int Calls;

    public bool TryRefine(ScoreMap scores, BgrImage image, Span<byte> labels, long deadline)
    {
        Interlocked.Increment(ref Calls);
        labels[..(image.Width * image.Height)].Fill(label);
        return inTime;
    }
}
