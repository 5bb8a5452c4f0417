using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>
/// Renders a camera-like view of a synthetic street together with its exact Cityscapes labels.
/// The street (layout, furniture, lighting, population) is fixed by the seed; vehicles and people
/// move with time, so consecutive frames make a video. Rendering is single-threaded and uses no
/// clock, so the same seed, size and frame index always give the same bytes.
/// </summary>
public sealed partial class StreetSceneRenderer
{
    private const uint GroundMask = (1u << TrainId.Road) | (1u << TrainId.Sidewalk) | (1u << TrainId.Terrain);

    private readonly StreetScene _scene;
    private readonly Canvas _canvas;
    private readonly double _f;
    private readonly double _cx;
    private readonly double _cy;
    private readonly double _hc;
    private readonly double _camX;
    private readonly Pt[] _poly = new Pt[32];

    /// <summary>Creates a renderer for the street of <paramref name="seed"/> at the given frame size.</summary>
    public StreetSceneRenderer(int seed, int width, int height)
        : this((long)seed, width, height)
    {
    }

    /// <summary>Creates a renderer for any 64-bit scene seed (datasets derive one per sample).</summary>
    public StreetSceneRenderer(long seed, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 8192);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 8192);
        Seed = seed;
        Width = width;
        Height = height;
        _scene = SceneGenerator.Generate(seed);
        _canvas = new Canvas(SceneRandom.Mix((ulong)seed ^ 0xC0FFEEUL));
        _f = _scene.FocalOverWidth * width;
        _cx = _scene.CentreXOverWidth * width;
        _cy = _scene.HorizonOverHeight * height;
        _hc = _scene.CameraHeight;
        _camX = _scene.CameraX;
    }

    public long Seed { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>
    /// Whether sensor noise, blur and JPEG artifacts are applied to the image (never to the labels).
    /// On by default; tests that compare colours with labels turn it off.
    /// </summary>
    public bool PostEffects { get; set; } = true;

    /// <summary>Renders frame <paramref name="frameIndex"/> of a video at <paramref name="fps"/> frames per second.</summary>
    public void Render(long frameIndex, double fps, VideoFrame frame, LabelMap labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frameIndex);
        if (!(fps > 0) || double.IsInfinity(fps))
        {
            throw new ArgumentOutOfRangeException(nameof(fps), fps, "frame rate must be positive and finite");
        }

        RenderAt(frameIndex / fps, frameIndex, frame, labels);
    }

    /// <summary>
    /// Renders the scene at <paramref name="seconds"/> into the frame and label map (both resized to the
    /// renderer's size). <paramref name="grainKey"/> varies the sensor noise between frames.
    /// </summary>
    public void RenderAt(double seconds, long grainKey, VideoFrame frame, LabelMap labels)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(labels);
        frame.EnsureSize(Width, Height);
        labels.EnsureSize(Width, Height);
        _canvas.Bind(frame, labels, (int)(SceneRandom.Mix((ulong)grainKey) & 0xFFFF));

        DrawGround();
        DrawSky();
        DrawBackdrop();
        DrawSides();
        DrawVehicleShadows(seconds);
        DrawProps();
        DrawMovers(seconds);
        if (PostEffects)
        {
            ApplyPostEffects(frame, grainKey);
        }
    }

    private Pt Project(double x, double y, double z) => new(_cx + (_f * (x - _camX) / z), _cy - (_f * (y - _hc) / z));

    private double ScreenX(double x, double z) => _cx + (_f * (x - _camX) / z);

    private double ScreenY(double y, double z) => _cy - (_f * (y - _hc) / z);

    /// <summary>A reflected colour under the scene's light.</summary>
    private Paint Lit(Bgr c, int grain) =>
        new(c.B * _scene.Ambient.B, c.G * _scene.Ambient.G, c.R * _scene.Ambient.R, grain);

    /// <summary>A self-lit colour (lamps, lit windows): unaffected by ambient light.</summary>
    private static Paint Emit(Bgr c, int grain = 0) => new(c.B, c.G, c.R, grain);

    private bool IsDark => _scene.Light != LightMode.Day;
}
