using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Refinement;
using Microsoft.Extensions.Options;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// The whole appliance configuration: <c>/etc/edgeseg/edgeseg.json</c> overlaid with environment variables
/// <c>EDGESEG_Section__Key</c>. Key names are the public contract; see the README's configuration reference.
/// Single-field rules are attributes checked by <see cref="EdgeSegOptionsFieldValidator"/> (source-generated);
/// rules across fields, files and sources are in <see cref="EdgeSegOptionsValidator"/>.
/// </summary>
public sealed class EdgeSegOptions
{
    /// <summary>Identifies this box in MQTT topics: edgeseg/&lt;DeviceId&gt;/…</summary>
    [TopicLevel]
    public string DeviceId { get; set; } = string.Empty;

    [ValidateObjectMembers]
    public ModelOptions Model { get; set; } = new();

    [ValidateEnumeratedItems]
    public List<CameraOptions> Cameras { get; set; } = [];

    [ValidateObjectMembers]
    public MqttOptions Mqtt { get; set; } = new();

    [ValidateObjectMembers]
    public StatisticsOptions Statistics { get; set; } = new();

    /// <summary>Home Assistant MQTT discovery (off by default).</summary>
    public HomeAssistantOptions HomeAssistant { get; set; } = new();

    /// <summary>The local HTTP endpoint: metrics, health, overlays (off by default).</summary>
    public HttpOptions Http { get; set; } = new();
}

/// <summary>
/// The optional HTTP endpoint: <c>/metrics</c> (Prometheus), <c>/healthz</c>, each camera's overlay as a
/// snapshot and an MJPEG stream, and a page at <c>/</c> that shows them. It has no authentication, so it
/// listens on loopback unless told otherwise.
/// </summary>
public sealed class HttpOptions
{
    public bool Enabled { get; set; }

    /// <summary>IP address to listen on: 127.0.0.1 (this box only), an interface's address, or 0.0.0.0 / :: (every interface).</summary>
    public string Listen { get; set; } = "127.0.0.1";

    /// <summary>TCP port (9464: the port Prometheus exporters of OpenTelemetry use).</summary>
    public int Port { get; set; } = 9464;

    /// <summary>Highest frame rate of an MJPEG stream; a camera's overlay is drawn once per frame however many watch.</summary>
    public double StreamMaxFps { get; set; } = 5;

    /// <summary><c>/healthz</c> answers 503 once no frame has been segmented (or the inference loop has not gone round) for this long.</summary>
    public double StallSeconds { get; set; } = 30;
}

/// <summary>Home Assistant MQTT discovery: one device for the box, a sensor per camera and class.</summary>
public sealed class HomeAssistantOptions
{
    public bool Enabled { get; set; }

    /// <summary>Home Assistant's discovery prefix.</summary>
    public string DiscoveryPrefix { get; set; } = "homeassistant";

    /// <summary>Classes that get a sensor per camera; empty: every class of the model.</summary>
    public List<string> Classes { get; set; } = [];
}

/// <summary>The segmentation model and how it is run.</summary>
public sealed class ModelOptions
{
    /// <summary>ONNX file; relative paths are taken from the config file's folder, then the install folder. Empty: the bundled model.</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>Execution providers to try, best first.</summary>
    public List<ExecutionProvider> Providers { get; set; } = [];

    /// <summary>CPU threads for the model; 0 = all cores.</summary>
    [InRange(0, 256, Accepts = "0 (all cores) .. 256")]
    public int Threads { get; set; }

    /// <summary>GPU ordinal for CUDA and TensorRT.</summary>
    [InRange(0, int.MaxValue, Accepts = "0 or more")]
    public int DeviceId { get; set; }

    /// <summary>Where TensorRT engines are cached between starts.</summary>
    public string EngineCacheDirectory { get; set; } = "/var/cache/edgeseg/trt";

    /// <summary>How TensorRT builds its engine (only read when TensorRT is among the providers).</summary>
    [ValidateObjectMembers]
    public TensorRtOptions TensorRT { get; set; } = new();
}

/// <summary>TensorRT engine build settings, with ONNX Runtime's TensorRT provider's meaning.</summary>
public sealed class TensorRtOptions
{
    /// <summary>Let layers run in FP16 where TensorRT finds it faster.</summary>
    public bool Fp16 { get; set; } = true;

    /// <summary>Run the INT8 layers of a QDQ model in INT8 (no calibration table: the scales are in the model).</summary>
    public bool Int8 { get; set; } = true;

    /// <summary>Scratch memory TensorRT may use while building and running, in MiB.</summary>
    [InRange(16, 65536)]
    public int WorkspaceMiB { get; set; } = 1024;

    /// <summary>Builder optimisation level 0..5: higher searches longer for faster kernels (3 is TensorRT's default).</summary>
    [InRange(0, 5)]
    public int BuilderOptimizationLevel { get; set; } = 3;

    /// <summary>DLA core for the engine on Jetson AGX/NX (0 or 1); -1 runs on the GPU.</summary>
    [InRange(-1, 7, Accepts = "-1 (GPU) or a DLA core 0..7")]
    public int DlaCore { get; set; } = -1;
}

/// <summary>One camera.</summary>
public sealed class CameraOptions
{
    /// <summary>Unique name, used in topics: edgeseg/&lt;device&gt;/&lt;Name&gt;/stats.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Source URI: file:///x.mp4?loop=true, v4l2:///dev/video0, synthetic://street?seed=7.</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>Highest frame rate segmented; null = as fast as the source and model allow.</summary>
    [InRange(0, 240, MinimumExclusive = true, Unit = "frames per second")]
    public double? MaxFps { get; set; }

    /// <summary>Optional fully connected CRF on this camera's masks.</summary>
    [ValidateObjectMembers]
    public RefinementOptions Refinement { get; set; } = new();

    /// <summary>Named regions of the view whose class shares are published as well (zones may overlap).</summary>
    public List<ZoneOptions> Zones { get; set; } = [];

    /// <summary>Optional ground-plane calibration: square metres per class (and per zone).</summary>
    public GroundOptions Ground { get; set; } = new();
}

/// <summary>A zone: a simple polygon in relative image coordinates (0..1), with optional occupancy rules.</summary>
public sealed class ZoneOptions
{
    /// <summary>Unique per camera; a topic level (no '/', '+', '#').</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>[x, y] pairs, x from the left, y from the top, 0..1; at least 3, not self-intersecting.</summary>
    public List<List<double>> Points { get; set; } = [];

    public List<OccupancyOptions> Occupancy { get; set; } = [];
}

/// <summary>
/// An occupancy condition on a zone: the share of <see cref="Class"/> (a class or a class group) above
/// <see cref="Above"/> for <see cref="MinSeconds"/> starts it; below <see cref="Below"/> for
/// <see cref="EndSeconds"/> ends it. Each start and end is published on …/events.
/// </summary>
public sealed class OccupancyOptions
{
    /// <summary>Names the condition in events ("queue"); unique per zone.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>A class of the model or a group of <see cref="StatisticsOptions.ClassGroups"/>.</summary>
    public string Class { get; set; } = string.Empty;

    /// <summary>Share (0..1] above which the condition holds.</summary>
    public double Above { get; set; }

    /// <summary>Share below which it stops holding (hysteresis); null: 80 % of <see cref="Above"/>.</summary>
    public double? Below { get; set; }

    /// <summary>How long the share must stay above <see cref="Above"/> before the start is published.</summary>
    public double MinSeconds { get; set; }

    /// <summary>How long the share must stay below <see cref="Below"/> before the end is published.</summary>
    public double EndSeconds { get; set; } = 1;
}

/// <summary>
/// The camera's ground plane, from four or more image ↔ ground point pairs (a least-squares homography),
/// or, for synthetic:// sources, from the scene's own camera (<see cref="FromSource"/>).
/// </summary>
public sealed class GroundOptions
{
    public List<GroundPointOptions> Points { get; set; } = [];

    /// <summary>Use the exact calibration of a synthetic:// source instead of <see cref="Points"/>.</summary>
    public bool FromSource { get; set; }

    /// <summary>The start is refused when a point pair reprojects farther than this, in pixels of the model's input.</summary>
    public double MaxReprojectionErrorPixels { get; set; } = 3;

    /// <summary>Pixels whose centre lies farther than this from the ground origin (metres) have no area.</summary>
    public double MaxDistanceMetres { get; set; } = 80;

    /// <summary>Classes and groups whose square metres are published; empty: the ground classes and what stands on them.</summary>
    public List<string> Classes { get; set; } = [];

    public bool Enabled => FromSource || Points.Count > 0;
}

/// <summary>One calibration pair: where a ground point is in the image (relative [x, y]) and on the ground ([x, y] metres).</summary>
public sealed class GroundPointOptions
{
    public List<double> Image { get; set; } = [];

    public List<double> Ground { get; set; } = [];
}

/// <summary>
/// The dense CRF stage of one camera: the refiner's own parameters (<see cref="CrfOptions"/>, bound
/// directly, with DeepLab's names and units: distances in pixels of the model's input frame, colour
/// differences in 0..255 intensity levels) plus whether it runs and its time budget.
/// </summary>
public sealed record RefinementOptions : CrfOptions
{
    public bool Enabled { get; set; }

    /// <summary>Time one frame's refinement may take; past it the frame is published unrefined and the skip counted.</summary>
    [InRange(0, 10_000, MinimumExclusive = true, Unit = "ms")]
    public double BudgetMs { get; set; } = 50;
}

/// <summary>The MQTT broker and topics.</summary>
public sealed class MqttOptions
{
    public string Host { get; set; } = "127.0.0.1";

    [InRange(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>First topic level; topics are &lt;TopicPrefix&gt;/&lt;DeviceId&gt;/….</summary>
    [TopicLevel]
    public string TopicPrefix { get; set; } = "edgeseg";

    /// <summary>MQTT client id; empty = edgeseg-&lt;DeviceId&gt;.</summary>
    public string ClientId { get; set; } = string.Empty;

    public string Username { get; set; } = string.Empty;

    /// <summary>Never logged. Prefer <see cref="PasswordFile"/> or <see cref="PasswordCredential"/>.</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>A file holding the password (its first line); relative paths beside the config file.</summary>
    public string PasswordFile { get; set; } = string.Empty;

    /// <summary>The name of a systemd credential (LoadCredential=NAME:…) holding the password.</summary>
    public string PasswordCredential { get; set; } = string.Empty;

    /// <summary>"5" (default) or "3.1.1".</summary>
    [OneOf("5", "3.1.1")]
    public string ProtocolVersion { get; set; } = "5";

    public bool UseTls { get; set; }

    /// <summary>PEM file of the CA(s) that sign the broker's certificate; empty: the system's trust store.</summary>
    public string CaFile { get; set; } = string.Empty;

    /// <summary>PEM client certificate for brokers that require one (with <see cref="ClientKeyFile"/>).</summary>
    public string ClientCertificateFile { get; set; } = string.Empty;

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/>.</summary>
    public string ClientKeyFile { get; set; } = string.Empty;

    /// <summary>The name the broker's certificate must carry; empty: <see cref="Host"/>.</summary>
    public string ServerName { get; set; } = string.Empty;

    /// <summary>Accept any broker certificate (test rigs only: it defeats TLS's point; logged at start).</summary>
    public bool AllowUntrustedCertificates { get; set; }

    [InRange(5, 3600)]
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>Messages kept while the broker is away; the oldest go first when full (and are counted).</summary>
    [InRange(1, 1_000_000, Unit = "messages")]
    public int SpoolCapacity { get; set; } = 20000;

    /// <summary>Messages older than this are dropped (and counted) even if the spool has room.</summary>
    [InRange(0.01, 8760, Unit = "hours")]
    public double SpoolMaxAgeHours { get; set; } = 168;

    /// <summary>The durable spool's database (relative: beside the config file); empty keeps it in memory (lost at a restart).</summary>
    public string SpoolPath { get; set; } = "/var/lib/edgeseg/spool.db";
}

/// <summary>How per-frame class shares are aggregated before publishing.</summary>
public sealed class StatisticsOptions
{
    /// <summary>Window length in seconds (used unless <see cref="WindowFrames"/> is set).</summary>
    public double WindowSeconds { get; set; } = 5;

    /// <summary>Window length in frames; 0 = use <see cref="WindowSeconds"/>.</summary>
    [InRange(0, int.MaxValue, Accepts = "0 (use WindowSeconds) or more")]
    public int WindowFrames { get; set; }

    /// <summary>Named groups of classes ("vehicle": ["car", "truck", …]) published beside the classes and usable wherever a class is.</summary>
    public Dictionary<string, List<string>> ClassGroups { get; set; } = [];
}

/// <summary>The single-field rules of <see cref="EdgeSegOptions"/>, from their attributes (source-generated: no reflection).</summary>
[OptionsValidator]
internal sealed partial class EdgeSegOptionsFieldValidator : IValidateOptions<EdgeSegOptions>
{
}
