using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>
/// A camera, file or generator that produces frames. Reads block, so a source is driven from a
/// thread of its own; it is not thread-safe.
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>What the source reads, with any credentials removed, for logs and errors.</summary>
    string Description { get; }

    /// <summary>The frame rate the source announces, or null when it announces none.</summary>
    double? NominalFps { get; }

    /// <summary>
    /// True for a source that delivers at its own rate (a camera, a network stream): a reader only thins
    /// it to a limit. False for one that delivers as fast as it is read (a file, a generator, a folder of
    /// images): a reader that wants real time paces it to <see cref="NominalFps"/>.
    /// </summary>
    bool IsLive { get; }

    /// <summary>
    /// Blocks until the next frame is written into <paramref name="target"/> (pixels and
    /// <see cref="Frames.VideoFrame.Sequence"/>; the time it is handed on is stamped by the reader).
    /// Returns false at the end of a finite stream; throws <see cref="FrameSourceException"/> when the
    /// source fails.
    /// </summary>
    bool Read(VideoFrame target);
}

/// <summary>A source that knows the true label of every pixel it produces (synthetic scenes, datasets).</summary>
public interface ILabeledFrameSource : IFrameSource
{
    /// <summary>Like <see cref="IFrameSource.Read"/>, also writing the ground truth at frame size.</summary>
    bool Read(VideoFrame target, LabelMap truth);
}

/// <summary>A source could not be opened or stopped delivering frames.</summary>
public sealed class FrameSourceException : Exception
{
    public FrameSourceException(string message)
        : base(message)
    {
    }

    public FrameSourceException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
