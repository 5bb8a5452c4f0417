using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>Integer label maps from models that argmax in the graph (TF zoo exports give int64).</summary>
internal static class LabelConversion
{
    public static void Narrow(ReadOnlySpan<long> source, int classes, Span<byte> labels)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            var v = source[i];
            labels[i] = (ulong)v < (ulong)classes ? (byte)v : LabelMap.Ignore;
        }
    }

    public static void Narrow(ReadOnlySpan<int> source, int classes, Span<byte> labels)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            var v = source[i];
            labels[i] = (uint)v < (uint)classes ? (byte)v : LabelMap.Ignore;
        }
    }

    public static void Narrow(ReadOnlySpan<byte> source, int classes, Span<byte> labels)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            var v = source[i];
            labels[i] = v < classes ? v : LabelMap.Ignore;
        }
    }
}
