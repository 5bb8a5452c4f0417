using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Rendering;

/// <summary>A camera's frame with its mask and legend (<see cref="OverlayRenderer"/>), as a JPEG.</summary>
/// <param name="Jpeg">The encoded image.</param>
/// <param name="Width">Width of the frame, pixels.</param>
/// <param name="Height">Height of the frame, pixels.</param>
/// <param name="Sequence">The frame's position in its source.</param>
/// <param name="Captured">When the frame was captured (UTC).</param>
public sealed record OverlayImage(byte[] Jpeg, int Width, int Height, long Sequence, DateTimeOffset Captured);

/// <summary>
/// Overlays of one camera, made only while someone asks for them (a snapshot command, an HTTP client).
/// The inference thread does no more than copy the frame and its labels into buffers the feed owns
/// (allocation-free once they have the stream's size) and queue the rest; the overlay is drawn and
/// encoded on the thread pool. Concurrent requests share one frame and one encoding, so ten viewers
/// cost what one does, and at most one request per camera is pending at a time.
/// </summary>
public sealed class OverlayFeed
{
    /// <summary>JPEG quality of overlays: legend text stays legible at a fraction of PNG's size.</summary>
    public const int JpegQuality = 85;

    private readonly LabelSet _labelSet;
    private readonly VideoFrame _frame = new();
    private readonly LabelMap _labels = new();
    private readonly SegmentedFrameHandler _copy;
    private readonly Lock _gate = new();
    private TaskCompletionSource<OverlayImage>? _pending;
    private OverlayImage? _latest;

    public OverlayFeed(CameraChannel camera, LabelSet labelSet)
    {
        ArgumentNullException.ThrowIfNull(camera);
        ArgumentNullException.ThrowIfNull(labelSet);
        Camera = camera;
        _labelSet = labelSet;
        _copy = Copy;
    }

    public CameraChannel Camera { get; }

    /// <summary>The newest overlay made, or null before the first request was served.</summary>
    public OverlayImage? Latest => Volatile.Read(ref _latest);

    /// <summary>
    /// The overlay of the camera's next segmented frame. Completes when the camera delivers one (a
    /// stalled camera: never; pass a token with a timeout and fall back on <see cref="Latest"/>).
    /// </summary>
    public Task<OverlayImage> NextAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<OverlayImage> pending;
        lock (_gate)
        {
            if (_pending is null)
            {
                _pending = new TaskCompletionSource<OverlayImage>(TaskCreationOptions.RunContinuationsAsynchronously);
                Camera.RequestSnapshot(_copy);
            }

            pending = _pending;
        }

        return pending.Task.WaitAsync(cancellationToken);
    }

    /// <summary>On the inference thread: copies, then leaves.</summary>
    private void Copy(in SegmentedFrame segmented)
    {
        // The buffers are free: the next request is only made once the previous overlay is drawn.
        segmented.Frame.CopyTo(_frame);
        _labels.EnsureSize(segmented.Labels.Width, segmented.Labels.Height);
        segmented.Labels.Labels.CopyTo(_labels.Labels);
        ThreadPool.UnsafeQueueUserWorkItem(static feed => feed.Render(), this, preferLocal: false);
    }

    private void Render()
    {
        TaskCompletionSource<OverlayImage> pending;
        lock (_gate)
        {
            pending = _pending!;
        }

        try
        {
            using var image = OverlayRenderer.Render(_frame, _labels, _labelSet);
            OverlayRenderer.DrawZones(image, Camera.Counter.Layout.Zones);
            Cv2.ImEncode(".jpg", image, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, JpegQuality));
            var overlay = new OverlayImage(jpeg, _frame.Width, _frame.Height, _frame.Sequence, _frame.Timestamp);
            Volatile.Write(ref _latest, overlay);
            Complete();
            pending.SetResult(overlay);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Complete();
            pending.SetException(e);
        }
    }

    private void Complete()
    {
        lock (_gate)
        {
            _pending = null;
        }
    }
}
