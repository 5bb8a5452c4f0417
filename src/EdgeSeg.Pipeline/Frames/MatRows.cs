using OpenCvSharp;

namespace EdgeSeg.Pipeline.Frames;

/// <summary>Copies an OpenCV image into a packed managed buffer row by row (OpenCV rows may be padded).</summary>
internal static class MatRows
{
    public static unsafe void CopyTo(Mat mat, Span<byte> destination, int rowBytes, int height)
    {
        for (var y = 0; y < height; y++)
        {
            new ReadOnlySpan<byte>((byte*)mat.Ptr(y), rowBytes).CopyTo(destination.Slice(y * rowBytes, rowBytes));
        }
    }
}
