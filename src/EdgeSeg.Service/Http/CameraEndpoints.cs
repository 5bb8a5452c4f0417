using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Rendering;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Mqtt;
using Microsoft.AspNetCore.Http;

namespace EdgeSeg.Service.Http;

/// <summary>
/// Each camera over HTTP: <c>/cameras/&lt;name&gt;/snapshot.jpg</c> (the newest frame with its mask and
/// legend), <c>/cameras/&lt;name&gt;/stream.mjpg</c> (the same as an MJPEG stream, at most
/// <see cref="HttpOptions.StreamMaxFps"/>) and <c>/api/cameras</c> (state, counters and the newest
/// window's shares, for the page). Overlays come from the camera's <see cref="OverlayFeed"/>: the
/// inference thread never waits for a client.
/// </summary>
internal sealed class CameraEndpoints(LiveCameras cameras, OnnxSegmenter segmenter, ApplianceIdentity appliance, HttpOptions http)
{
    /// <summary>How long a snapshot waits for the camera's next frame before it settles for the newest one made.</summary>
    public static readonly TimeSpan SnapshotWait = TimeSpan.FromSeconds(5);

    private const string Boundary = "edgeseg-frame";

    private static readonly byte[] PartEnd = "\r\n"u8.ToArray();

    private readonly TimeSpan _frameInterval = TimeSpan.FromSeconds(1 / http.StreamMaxFps);

    public async Task SnapshotAsync(HttpContext context)
    {
        if (await FeedAsync(context).ConfigureAwait(false) is not { } feed)
        {
            return;
        }

        var aborted = context.RequestAborted;
        OverlayImage? overlay;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted))
        {
            wait.CancelAfter(SnapshotWait);
            try
            {
                overlay = await feed.NextAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                overlay = feed.Latest;
            }
        }

        if (overlay is null)
        {
            await HttpResponses.WriteTextAsync(context.Response, StatusCodes.Status503ServiceUnavailable, string.Create(
                CultureInfo.InvariantCulture,
                $"camera '{feed.Camera.Name}' has no segmented frame yet (nothing within {SnapshotWait.TotalSeconds:0} s; state {State(feed)}); try again")).ConfigureAwait(false);
            return;
        }

        context.Response.Headers.LastModified = overlay.Captured.ToString("R", CultureInfo.InvariantCulture);
        await HttpResponses.WriteAsync(context.Response, StatusCodes.Status200OK, "image/jpeg", overlay.Jpeg).ConfigureAwait(false);
    }

    /// <summary>multipart/x-mixed-replace: one JPEG part per overlay, until the client goes or the service stops.</summary>
    public async Task StreamAsync(HttpContext context, CancellationToken stopping)
    {
        if (await FeedAsync(context).ConfigureAwait(false) is not { } feed)
        {
            return;
        }

        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var token = end.Token;
        var response = context.Response;
        response.ContentType = $"multipart/x-mixed-replace; boundary={Boundary}";
        response.Headers.CacheControl = "no-store";
        var body = response.Body;
        try
        {
            await response.StartAsync(token).ConfigureAwait(false);
            while (!token.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var overlay = await feed.NextAsync(token).ConfigureAwait(false);
                var header = Encoding.ASCII.GetBytes(string.Create(
                    CultureInfo.InvariantCulture, $"--{Boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {overlay.Jpeg.Length}\r\n\r\n"));
                await body.WriteAsync(header, token).ConfigureAwait(false);
                await body.WriteAsync(overlay.Jpeg, token).ConfigureAwait(false);
                await body.WriteAsync(PartEnd, token).ConfigureAwait(false);
                await body.FlushAsync(token).ConfigureAwait(false);
                var rest = _frameInterval - Stopwatch.GetElapsedTime(started);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away, or the service is stopping.
        }
    }

    /// <summary>The configured cameras, their state and counters, and the newest window's shares.</summary>
    public Task ListAsync(HttpContext context) =>
        HttpResponses.WriteJsonAsync(context.Response, StatusCodes.Status200OK, WriteCameras);

    private void WriteCameras(Utf8JsonWriter w)
    {
        var labels = segmenter.Model.Labels;
        w.WriteStartObject();
        w.WriteString("device", appliance.DeviceId);
        w.WriteString("model", segmenter.Model.Name);
        w.WriteString("provider", segmenter.Provider.ToString());
        w.WriteStartArray("cameras");
        foreach (var name in appliance.Cameras)
        {
            var path = $"/cameras/{Uri.EscapeDataString(name)}";
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("snapshot", $"{path}/snapshot.jpg");
            w.WriteString("stream", $"{path}/stream.mjpg");
            if (cameras.Find(name)?.Camera is not { } camera)
            {
                w.WriteString("state", "not running");
                w.WriteEndObject();
                continue;
            }

            w.WriteString("state", camera.Worker.State.ToString().ToLowerInvariant());
            w.WriteNumber("processed", camera.Processed);
            w.WriteNumber("dropped", camera.Slot.Dropped);
            w.WriteNumber("reconnects", camera.Worker.Reconnects);
            if (camera.Worker.LastError is { } error)
            {
                w.WriteString("last_error", error);
            }

            if (camera.LastWindow is { } window)
            {
                w.WriteNumber("fps", Math.Round(window.Fps, 2));
                w.WriteString("window_end", StatsPayload.Iso(window.End));
                w.WriteStartArray("shares");
                foreach (var c in Enumerable.Range(0, window.Classes.Count).Where(c => window.Classes[c].Mean >= 0.001).OrderByDescending(c => window.Classes[c].Mean))
                {
                    var colour = labels.Palette[c];
                    w.WriteStartObject();
                    w.WriteString("class", window.ClassNames[c]);
                    w.WriteNumber("share", Math.Round(window.Classes[c].Mean, 4));
                    w.WriteString("color", $"#{colour.R:x2}{colour.G:x2}{colour.B:x2}");
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The feed the request names; otherwise answers 404 (no such camera) or 503 (not running) and returns null.</summary>
    private async Task<OverlayFeed?> FeedAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? string.Empty;
        if (!appliance.Cameras.Contains(name, StringComparer.Ordinal))
        {
            await HttpResponses.WriteTextAsync(context.Response, StatusCodes.Status404NotFound,
                $"no camera named '{name}' (cameras: {string.Join(", ", appliance.Cameras)})").ConfigureAwait(false);
            return null;
        }

        if (cameras.Find(name) is not { } feed)
        {
            await HttpResponses.WriteTextAsync(context.Response, StatusCodes.Status503ServiceUnavailable,
                $"camera '{name}' is not running (the pipeline is starting or has stopped)").ConfigureAwait(false);
            return null;
        }

        return feed;
    }

    private static string State(OverlayFeed feed) => feed.Camera.Worker.State.ToString().ToLowerInvariant();
}
