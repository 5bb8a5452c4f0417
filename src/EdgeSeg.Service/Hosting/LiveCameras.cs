using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Rendering;

namespace EdgeSeg.Service.Hosting;

/// <summary>
/// The running pipeline's cameras, each with its overlay feed, in configuration order and by name; empty
/// while no pipeline runs. Snapshot commands and the HTTP endpoint read overlays through it, so that all
/// of a camera's viewers share one feed.
/// </summary>
internal sealed class LiveCameras
{
    private IReadOnlyList<OverlayFeed> _feeds = [];

    public IReadOnlyList<OverlayFeed> Feeds => Volatile.Read(ref _feeds);

    /// <summary>The feed of the camera named <paramref name="camera"/> (exact name), or null.</summary>
    public OverlayFeed? Find(string camera)
    {
        foreach (var feed in Feeds)
        {
            if (string.Equals(feed.Camera.Name, camera, StringComparison.Ordinal))
            {
                return feed;
            }
        }

        return null;
    }

    public void Attach(IEnumerable<CameraChannel> cameras, LabelSet labels) =>
        Volatile.Write(ref _feeds, [.. cameras.Select(c => new OverlayFeed(c, labels))]);

    public void Detach() => Volatile.Write(ref _feeds, []);
}
