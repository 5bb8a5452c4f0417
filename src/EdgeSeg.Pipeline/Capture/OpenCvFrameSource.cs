using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// Video files and V4L2 devices read through OpenCV's <see cref="VideoCapture"/>. Frames are decoded
/// straight into the caller's pooled buffer whenever OpenCV keeps the size and type of the frame.
/// </summary>
public sealed class OpenCvFrameSource : IFrameSource
{
    private readonly VideoCapture _capture;
    private readonly bool _loop;
    private readonly bool _isFile;
    private readonly Mat _scratch = new();
    private readonly MatViewCache _views = new();
    private long _sequence;

    private OpenCvFrameSource(VideoCapture capture, string description, bool isFile, bool loop)
    {
        _capture = capture;
        Description = description;
        _isFile = isFile;
        _loop = loop;
        var fps = capture.Fps;
        NominalFps = fps is > 0 and < 1000 ? fps : null;
    }

    public string Description { get; }

    public double? NominalFps { get; }

    /// <summary>Devices deliver at their own rate; files as fast as they decode.</summary>
    public bool IsLive => !_isFile;

    /// <summary>Opens a video file; <paramref name="loop"/> rewinds at the end instead of ending.</summary>
    public static OpenCvFrameSource OpenFile(string path, bool loop)
    {
        if (!File.Exists(path))
        {
            throw new FrameSourceException($"video file '{path}' does not exist");
        }

        var capture = new VideoCapture(path, VideoCaptureAPIs.FFMPEG);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new FrameSourceException($"video file '{path}' could not be opened: not a video this build of OpenCV can decode");
        }

        return new OpenCvFrameSource(capture, $"file {path}", isFile: true, loop);
    }

    /// <summary>Opens a V4L2 device such as /dev/video0 with an optional requested size and rate.</summary>
    public static OpenCvFrameSource OpenDevice(string device, int width, int height, int fps)
    {
        if (!File.Exists(device))
        {
            throw new FrameSourceException($"V4L2 device '{device}' does not exist");
        }

        var capture = new VideoCapture(device, VideoCaptureAPIs.V4L2);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new FrameSourceException($"V4L2 device '{device}' could not be opened (busy, or no permission: is the service user in group 'video'?)");
        }

        if (width > 0)
        {
            capture.Set(VideoCaptureProperties.FrameWidth, width);
        }

        if (height > 0)
        {
            capture.Set(VideoCaptureProperties.FrameHeight, height);
        }

        if (fps > 0)
        {
            capture.Set(VideoCaptureProperties.Fps, fps);
        }

        // One buffered frame: the pipeline wants the newest image, not a queue of old ones.
        capture.Set(VideoCaptureProperties.BufferSize, 1);
        return new OpenCvFrameSource(capture, $"v4l2 {device}", isFile: false, loop: false);
    }

    public bool Read(VideoFrame target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!ReadInto(target))
        {
            if (!_isFile || !_loop)
            {
                if (_isFile)
                {
                    return false;
                }

                throw new FrameSourceException($"{Description}: the device stopped delivering frames");
            }

            // Rewind and read again; a file that yields nothing even from its start is broken.
            _capture.Set(VideoCaptureProperties.PosFrames, 0);
            if (!ReadInto(target))
            {
                throw new FrameSourceException($"{Description}: no frame could be decoded after rewinding");
            }
        }

        target.Sequence = _sequence++;
        return true;
    }

    public void Dispose()
    {
        _views.Dispose();
        _scratch.Dispose();
        _capture.Dispose();
    }

    private bool ReadInto(VideoFrame target)
    {
        if (target.Width > 0)
        {
            var view = _views.Get(target.Buffer, target.Height, target.Width, MatType.CV_8UC3);
            var expected = view.Data;
            if (!_capture.Read(view) || view.Empty())
            {
                return false;
            }

            // OpenCV decodes in place when size and type match; otherwise it gave the header new memory,
            // which is copied over and the stale header dropped.
            if (view.Data == expected)
            {
                return true;
            }

            CopyFromMat(view, target);
            _views.Dispose();
            return true;
        }

        if (!_capture.Read(_scratch) || _scratch.Empty())
        {
            return false;
        }

        CopyFromMat(_scratch, target);
        return true;
    }

    private static void CopyFromMat(Mat mat, VideoFrame target)
    {
        if (mat.Type() != MatType.CV_8UC3)
        {
            throw new FrameSourceException($"decoder produced {mat.Type()} frames; expected 8-bit BGR");
        }

        var height = mat.Height;
        target.EnsureSize(mat.Width, height);
        MatRows.CopyTo(mat, target.Pixels, target.Stride, height);
    }
}
