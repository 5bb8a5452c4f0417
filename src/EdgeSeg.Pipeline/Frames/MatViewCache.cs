using System.Runtime.InteropServices;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Frames;

/// <summary>
/// OpenCV headers over pinned managed buffers, kept between frames so that wrapping a pooled buffer
/// allocates nothing once warm. Buffers are recognised by reference; the cache holds a handful.
/// </summary>
internal sealed class MatViewCache : IDisposable
{
    private const int Capacity = 8;
    private readonly List<(byte[] Buffer, int Rows, int Cols, MatType Type, Mat View)> _views = [];

    /// <summary>A header over <paramref name="buffer"/>, which must be pinned (see <see cref="VideoFrame"/>).</summary>
    public Mat Get(byte[] buffer, int rows, int cols, MatType type)
    {
        foreach (var entry in _views)
        {
            if (ReferenceEquals(entry.Buffer, buffer) && entry.Rows == rows && entry.Cols == cols && entry.Type == type)
            {
                return entry.View;
            }
        }

        if (_views.Count == Capacity)
        {
            _views[0].View.Dispose();
            _views.RemoveAt(0);
        }

        var step = (long)cols * ElementBytes(type);
        if ((long)rows * step > buffer.Length)
        {
            throw new ArgumentException($"buffer of {buffer.Length} bytes is too small for {cols}x{rows} {type}", nameof(buffer));
        }

        var view = Mat.FromPixelData(rows, cols, type, Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0), step);
        _views.Add((buffer, rows, cols, type, view));
        return view;
    }

    private static int ElementBytes(MatType type) => type.Channels * (type.Depth switch
    {
        MatType.CV_8U or MatType.CV_8S => 1,
        MatType.CV_16U or MatType.CV_16S or MatType.CV_16F => 2,
        MatType.CV_32S or MatType.CV_32F => 4,
        _ => 8,
    });

    public void Dispose()
    {
        foreach (var entry in _views)
        {
            entry.View.Dispose();
        }

        _views.Clear();
    }
}
