using System.Net;
using System.Reflection;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace EdgeSeg.Service.Http;

/// <summary>
/// The optional local HTTP endpoint (<see cref="HttpOptions"/>): <c>/metrics</c>, <c>/healthz</c>, each
/// camera's snapshot and MJPEG stream, <c>/api/cameras</c> and a page at <c>/</c>.
/// <para>
/// ASP.NET Core's minimal Kestrel rather than prometheus-net's <c>KestrelMetricServer</c>: that one
/// serves a single path, and this endpoint also has health, overlays and a page; <c>/metrics</c> is
/// still prometheus-net's own middleware (<c>MapMetrics</c>). A small web application of its own beside
/// the appliance's generic host rather than making that host a web host: with the endpoint off (the
/// default) nothing of ASP.NET Core runs, and when its port cannot be bound the endpoint is lost, not the
/// inference — the service logs why and goes on.
/// </para>
/// </summary>
internal sealed class HttpEndpoint(
    IOptions<HttpOptions> options, ApplianceIdentity appliance, ServiceMetrics metrics, PipelineHeartbeat heartbeat, LiveCameras cameras, OnnxSegmenter segmenter, ILoggerFactory loggers)
    : IHostedService, IAsyncDisposable
{
    private const string PageResource = "EdgeSeg.Service.Http.index.html";

    private readonly ILogger<HttpEndpoint> _logger = loggers.CreateLogger<HttpEndpoint>();
    private PrometheusExport? _export;
    private WebApplication? _app;

    /// <summary>Where the endpoint listens once started, e.g. http://127.0.0.1:9464; null when off.</summary>
    public string? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var http = options.Value;
        if (!http.Enabled)
        {
            return;
        }

        var address = IPAddress.Parse(http.Listen);
        var export = new PrometheusExport(metrics.Meter);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // Through the appliance's loggers; ASP.NET Core's per-request lines only from Warning up, so
        // that a scrape every 15 s does not fill the journal.
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggers));
        // The appliance's host owns the process's lifetime (SIGTERM, systemd); this one only follows it.
        builder.Services.AddSingleton<IHostLifetime, FollowerLifetime>();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // A box's own dashboard and a scraper or two: a bound, so that forgotten browser tabs
            // holding streams open cannot take every socket.
            k.Limits.MaxConcurrentConnections = 64;
            k.Listen(address, http.Port);
        });
        var app = builder.Build();
        Map(app, export);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            _logger.LogError("Http: cannot listen on {Address}:{Port} ({Reason}); the service runs on without its HTTP endpoint", http.Listen, http.Port, e.Message);
            await app.DisposeAsync().ConfigureAwait(false);
            export.Dispose();
            return;
        }

        _app = app;
        _export = export;
        Address = $"http://{new IPEndPoint(address, http.Port)}";
        _logger.LogInformation(
            "HTTP endpoint on {Address}: / (page), /metrics, /healthz, /api/cameras, /cameras/<name>/snapshot.jpg and stream.mjpg{Exposure}",
            Address, IPAddress.IsLoopback(address) ? string.Empty : " — beyond this box and without authentication: keep it behind a firewall");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _export?.Dispose();
        _export = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private void Map(WebApplication app, PrometheusExport export)
    {
        var health = new HealthEndpoint(heartbeat, cameras, options.Value);
        var overlays = new CameraEndpoints(cameras, segmenter, appliance, options.Value);
        var page = ReadPage();
        var stopping = app.Lifetime.ApplicationStopping;
        app.MapGet("/", context => HttpResponses.WriteAsync(context.Response, StatusCodes.Status200OK, "text/html; charset=utf-8", page));
        app.MapMetrics(settings => settings.Registry = export.Registry);
        app.MapMethods("/healthz", [HttpMethods.Get, HttpMethods.Head], health.HandleAsync);
        app.MapGet("/api/cameras", overlays.ListAsync);
        app.MapGet("/cameras/{name}/snapshot.jpg", overlays.SnapshotAsync);
        app.MapGet("/cameras/{name}/stream.mjpg", context => overlays.StreamAsync(context, stopping));
        // Every other path and method, files included (the default fallback pattern leaves out paths with a dot).
        app.MapFallback("{**path}", NotFoundAsync);
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET";
            return HttpResponses.WriteTextAsync(context.Response, StatusCodes.Status405MethodNotAllowed, $"{context.Request.Method} is not served here: every endpoint is read-only (GET)");
        }

        var path = context.Request.Path.Value ?? string.Empty;
        return HttpResponses.WriteTextAsync(
            context.Response,
            StatusCodes.Status404NotFound,
            $"nothing at '{(path.Length > 200 ? path[..200] + "…" : path)}' (try /, /metrics, /healthz, /api/cameras, /cameras/<name>/snapshot.jpg, /cameras/<name>/stream.mjpg)");
    }

    private static byte[] ReadPage()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(PageResource)
                           ?? throw new InvalidOperationException($"resource {PageResource} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>A lifetime that neither listens for signals nor says "press Ctrl+C": the web application stops when the appliance stops it.</summary>
    private sealed class FollowerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Hands the web application's log lines to the appliance's loggers (and their configuration).</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory loggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => loggers.CreateLogger(categoryName);

        public void Dispose()
        {
            // The appliance owns the factory.
        }
    }
}
