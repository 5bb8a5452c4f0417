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
        : this(seed, width, height, null)
    {
    }

    /// <summary>Creates a renderer whose street also shows a scripted queue (<see cref="Queue"/> says where).</summary>
    public StreetSceneRenderer(long seed, int width, int height, QueueScript? queue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 8192);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 8192);
        Seed = seed;
        Width = width;
        Height = height;
        _scene = SceneGenerator.Generate(seed);
        if (queue is not null)
        {
            Queue = SceneGenerator.AddQueue(_scene, queue, seed);
        }

        _canvas = new Canvas(SceneRandom.Mix((ulong)seed ^ 0xC0FFEEUL));
        _f = _scene.FocalOverWidth * width;
        _cx = _scene.CentreXOverWidth * width;
        _cy = _scene.HorizonOverHeight * height;
        _hc = _scene.CameraHeight;
        _camX = _scene.CameraX;
    }

    public long Seed { get; }

    /// <summary>
    /// Zones a traffic engineer would draw on this street, from the scene's own geometry: each lane
    /// ("lane_1" from the left) from the first metres in view to <paramref name="far"/> metres, and the
    /// pedestrian crossing or the intersection ("crossing") when the street has one in view. Polygons are
    /// clipped to the image; a zone with nothing in view is left out.
    /// </summary>
    public IReadOnlyList<Areas.Zone> SuggestedZones(double far = 45)
    {
        var g = Ground;
        var zones = new List<Areas.Zone>();
        // The nearest ground row in view (the bottom of the image), and a little margin.
        var near = Math.Max(2, (g.CameraHeight * _f / Height / (1 - g.HorizonY)) + 0.5);
        void Add(string name, double x0, double x1, double y0, double y1)
        {
            if (y1 <= y0)
            {
                return;
            }

            var quad = new[] { (x0, y0), (x1, y0), (x1, y1), (x0, y1) }.Select(p => g.ToImage(p.Item1, p.Item2, Width, Height)).ToList();
            var clipped = Areas.Zone.ClipToImage(quad);
            if (clipped.Count >= 3 && Areas.Zone.Problem(clipped) is null)
            {
                zones.Add(new Areas.Zone(name, clipped));
            }
        }

        var left = (-_scene.Lanes * _scene.LaneWidth / 2) - _camX;
        for (var lane = 0; lane < _scene.Lanes; lane++)
        {
            var x0 = left + (lane * _scene.LaneWidth);
            Add($"lane_{lane + 1}", x0 + 0.2, x0 + _scene.LaneWidth - 0.2, near, far);
        }

        var (c0, c1) = _scene.HasZebra ? (_scene.ZebraZ0, _scene.ZebraZ1) : _scene.HasIntersection ? (_scene.IntersectionZ0, _scene.IntersectionZ1) : (0, 0);
        if (c1 > c0)
        {
            Add("crossing", -_scene.RoadHalf(0) - _camX, _scene.RoadHalf(1) - _camX, Math.Max(c0, near), c1);
        }

        return zones;
    }

    /// <summary>Where the scripted queue stands, or null without one.</summary>
    public QueueGeometry? Queue { get; }

    /// <summary>The centre of each lane, left to right, in ground coordinates (metres to the right of the camera).</summary>
    public IReadOnlyList<double> LaneCentres =>
        [.. Enumerable.Range(0, _scene.Lanes).Select(l => (-_scene.Lanes * _scene.LaneWidth / 2) + ((l + 0.5) * _scene.LaneWidth) - _camX)];

    /// <summary>The scene's camera as an exact ground-plane calibration.</summary>
    public SyntheticGroundTruth Ground =>
        new(_scene.FocalOverWidth, _scene.CentreXOverWidth, _scene.HorizonOverHeight, _scene.CameraHeight);

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

/// <summary>
/// The synthetic street's camera seen as a ground-plane calibration: a pinhole at height
/// <see cref="CameraHeight"/> looking along the street with no tilt, so the ground maps to the image by
/// an exact homography. Ground coordinates are metres: X to the right of the camera, Y forward from it
/// (the camera stands at the origin). Everything here is derived from the scene's own camera, not fitted.
/// </summary>
public sealed class SyntheticGroundTruth
{
    private readonly double _focalOverWidth;
    private readonly double _centreX;
    private readonly double _horizonY;

    internal SyntheticGroundTruth(double focalOverWidth, double centreXOverWidth, double horizonOverHeight, double cameraHeight)
    {
        _focalOverWidth = focalOverWidth;
        _centreX = centreXOverWidth;
        _horizonY = horizonOverHeight;
        CameraHeight = cameraHeight;
    }

    public double CameraHeight { get; }

    /// <summary>Relative image row of the horizon.</summary>
    public double HorizonY => _horizonY;

    /// <summary>Where ground point (x right, y forward; metres) appears, in relative image coordinates (y must be positive).</summary>
    public Areas.RelativePoint ToImage(double x, double y, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(y);
        var f = _focalOverWidth * width;
        return new((_centreX + (f * x / y / width)), _horizonY + (f * CameraHeight / y / height));
    }

    /// <summary>
    /// The exact homography from relative image coordinates of a <paramref name="width"/>×<paramref name="height"/>
    /// frame to the ground (row-major 3x3). The image does not depend on the size except through the aspect
    /// ratio the focal length is given in.
    /// </summary>
    public double[] ImageToGround(int width, int height)
    {
        // Pixel u = cx + f X / Y, v = cy + f h / Y  =>  Y = f h / (v - cy), X = (u - cx) h / (v - cy),
        // with u = x W, v = y H in relative coordinates.
        var f = _focalOverWidth * width;
        double cx = _centreX * width, cy = _horizonY * height, h = CameraHeight;
        return
        [
            width * h, 0, -cx * h,
            0, 0, f * h,
            0, height, -cy,
        ];
    }

    /// <summary>A ground plane with the exact homography.</summary>
    public Areas.GroundPlane Plane(int width, int height, double maxDistance) =>
        new(ImageToGround(width, height), maxDistance, new Areas.RelativePoint(0.5, (1 + _horizonY) / 2));

    /// <summary>
    /// The exact ground area of each pixel of a <paramref name="width"/>×<paramref name="height"/> label map,
    /// in square metres, integrated in closed form (not through a homography): a pixel row [v, v+1] below the
    /// horizon covers f·h²/2 · ((v − cy)⁻² − (v + 1 − cy)⁻²) m² per pixel. Rows that reach the horizon, and
    /// pixels whose centre lies farther than <paramref name="maxDistance"/> from the camera, get 0.
    /// </summary>
    public double[] ExactPixelAreas(int width, int height, double maxDistance)
    {
        var f = _focalOverWidth * width;
        double cx = _centreX * width, cy = _horizonY * height, h = CameraHeight;
        var areas = new double[width * height];
        for (var v = 0; v < height; v++)
        {
            if (v <= cy)
            {
                continue;
            }

            var rowArea = f * h * h / 2 * ((1 / ((v - cy) * (v - cy))) - (1 / ((v + 1 - cy) * (v + 1 - cy))));
            var forward = f * h / (v + 0.5 - cy);
            for (var u = 0; u < width; u++)
            {
                var right = (u + 0.5 - cx) * h / (v + 0.5 - cy);
                if (Math.Sqrt((right * right) + (forward * forward)) <= maxDistance)
                {
                    areas[(v * width) + u] = rowArea;
                }
            }
        }

        return areas;
    }
}
