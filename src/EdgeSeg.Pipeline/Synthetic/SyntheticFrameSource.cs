using System.Globalization;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>
/// An endless synthetic street video with exact labels, opened from
/// <c>synthetic://street?seed=7&amp;size=1024x512&amp;fps=15</c>. <see cref="IFrameSource.Read"/> renders the
/// next frame immediately: pacing to <see cref="NominalFps"/> is the caller's job, so tests and
/// benchmarks run as fast as the renderer allows.
/// </summary>
public sealed class SyntheticFrameSource : ILabeledFrameSource
{
    /// <summary>URI scheme of synthetic sources.</summary>
    public const string Scheme = "synthetic";

    private static readonly string[] Keys = ["seed", "size", "fps", "queue"];

    private readonly StreetSceneRenderer _renderer;
    private readonly LabelMap _scratch = new();
    private long _next;

    public SyntheticFrameSource(int seed, int width, int height, double fps, QueueScript? queue = null)
    {
        if (!(fps > 0) || fps > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(fps), fps, "fps must be in (0, 1000]");
        }

        _renderer = new StreetSceneRenderer(seed, width, height, queue);
        Seed = seed;
        NominalFps = fps;
        Description = string.Create(CultureInfo.InvariantCulture, $"synthetic://street?seed={seed}&size={width}x{height}&fps={fps}")
            + (queue is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"&queue={queue.FormsAt}-{queue.DissolvesAt}"));
    }

    public string Description { get; }

    public double? NominalFps { get; }

    /// <summary>A generator: it renders as fast as it is read.</summary>
    public bool IsLive => false;

    public int Seed { get; }

    /// <summary>The camera's exact ground-plane calibration.</summary>
    public SyntheticGroundTruth Ground => _renderer.Ground;

    /// <summary>The centre of each lane (<see cref="StreetSceneRenderer.LaneCentres"/>).</summary>
    public IReadOnlyList<double> LaneCentres => _renderer.LaneCentres;

    /// <summary>Lanes and the crossing of this street as zones (<see cref="StreetSceneRenderer.SuggestedZones"/>).</summary>
    public IReadOnlyList<Areas.Zone> SuggestedZones(double far = 45) => _renderer.SuggestedZones(far);

    /// <summary>Where the scripted queue stands (<c>queue=FORMS-DISSOLVES</c>), or null.</summary>
    public QueueGeometry? Queue => _renderer.Queue;

    public int Width => _renderer.Width;

    public int Height => _renderer.Height;

    /// <summary>Index of the frame the next read returns.</summary>
    public long Position => _next;

    /// <summary>
    /// Opens a <c>synthetic://street</c> URI. Query keys: <c>seed</c> (integer, default 0), <c>size</c>
    /// (WIDTHxHEIGHT, default 1024x512), <c>fps</c> (default 15), <c>queue</c> (FORMS-DISSOLVES seconds: a
    /// scripted queue in the lane nearest the camera, <see cref="QueueScript"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong scheme or host, unknown or repeated key.</exception>
    /// <exception cref="FormatException">A value that does not parse or is out of range.</exception>
    public static SyntheticFrameSource Open(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || !string.Equals(uri.Scheme, Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"not a synthetic source: '{uri}' (expected {Scheme}://street?seed=N&size=WxH&fps=F)", nameof(uri));
        }

        if (!string.Equals(uri.Host, "street", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"unknown synthetic scene '{uri.Host}': the only scene is 'street'", nameof(uri));
        }

        if (uri.AbsolutePath is not ("" or "/"))
        {
            throw new ArgumentException($"synthetic://street takes no path, got '{uri.AbsolutePath}'", nameof(uri));
        }

        int seed = 0, width = 1024, height = 512;
        double fps = 15;
        QueueScript? queue = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var query = uri.Query.TrimStart('?');
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..]);
            if (!Keys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"unknown key '{key}' in '{uri}'; allowed keys: {string.Join(", ", Keys)}", nameof(uri));
            }

            if (!seen.Add(key))
            {
                throw new ArgumentException($"key '{key}' given twice in '{uri}'", nameof(uri));
            }

            switch (key.ToUpperInvariant())
            {
                case "SEED":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
                    {
                        throw new FormatException($"seed: '{value}' is not an integer (allowed: {int.MinValue}..{int.MaxValue})");
                    }

                    break;
                case "SIZE":
                    if (!TryParseSize(value, out width, out height, out var error))
                    {
                        throw new FormatException($"size: {error}");
                    }

                    break;
                case "QUEUE":
                    var times = value.Split('-');
                    if (times.Length != 2
                        || !double.TryParse(times[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var forms)
                        || !double.TryParse(times[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var dissolves)
                        || !(forms >= 0) || !(dissolves > forms) || dissolves > 1e6)
                    {
                        throw new FormatException($"queue: '{value}' is not FORMS-DISSOLVES in seconds (allowed: e.g. 20-50, 0 <= FORMS < DISSOLVES)");
                    }

                    queue = new QueueScript(forms, dissolves);
                    break;
                default:
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out fps) || !(fps > 0) || fps > 1000)
                    {
                        throw new FormatException($"fps: '{value}' is not a frame rate (allowed: a number in (0, 1000])");
                    }

                    break;
            }
        }

        return new SyntheticFrameSource(seed, width, height, fps, queue);
    }

    /// <summary>Parses <c>WIDTHxHEIGHT</c> with both sides in 16..8192.</summary>
    public static bool TryParseSize(string text, out int width, out int height, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        width = height = 0;
        var parts = text.Split('x', 'X');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out width)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out height))
        {
            error = $"'{text}' is not WIDTHxHEIGHT (allowed: e.g. 1024x512, both sides 16..8192)";
            return false;
        }

        if (width is < 16 or > 8192 || height is < 16 or > 8192)
        {
            error = $"'{text}' is out of range (allowed: both sides 16..8192)";
            return false;
        }

        error = string.Empty;
        return true;
    }

    public bool Read(VideoFrame target) => Read(target, _scratch);

    public bool Read(VideoFrame target, LabelMap truth)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(truth);
        var index = _next++;
        _renderer.Render(index, NominalFps!.Value, target, truth);
        target.Sequence = index;
        return true;
    }

    public void Dispose()
    {
    }
}
