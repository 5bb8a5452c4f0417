using System.Globalization;
using System.Text.Json;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using Microsoft.AspNetCore.Http;

namespace EdgeSeg.Service.Http;

/// <summary>
/// <c>/healthz</c>: 200 while frames are being segmented (one within <see cref="HttpOptions.StallSeconds"/>),
/// else 503; both with a small JSON body that says why and how each camera is doing. Progress is
/// <see cref="PipelineHeartbeat"/>'s, the definition the systemd watchdog uses.
/// </summary>
internal sealed class HealthEndpoint(PipelineHeartbeat heartbeat, LiveCameras cameras, HttpOptions options)
{
    private readonly TimeSpan _window = TimeSpan.FromSeconds(options.StallSeconds);

    public Task HandleAsync(HttpContext context)
    {
        var now = Environment.TickCount64;
        var (progress, age) = heartbeat.Check(now, _window);
        var status = progress == PipelineProgress.Frames ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return HttpResponses.WriteJsonAsync(context.Response, status, w => Write(w, now, progress, age));
    }

    private void Write(Utf8JsonWriter w, long now, PipelineProgress progress, TimeSpan? age)
    {
        w.WriteStartObject();
        w.WriteString("status", progress switch
        {
            PipelineProgress.Frames => "ok",
            PipelineProgress.NotRunning => "not running",
            _ => "stalled",
        });
        if (Reason(progress, age) is { } reason)
        {
            w.WriteString("reason", reason);
        }

        if (age is { } a)
        {
            w.WriteNumber(progress == PipelineProgress.LoopStuck ? "loop_age_s" : "last_frame_age_s", Math.Round(a.TotalSeconds, 2));
        }

        w.WriteNumber("stall_seconds", _window.TotalSeconds);
        w.WriteStartObject("cameras");
        foreach (var feed in cameras.Feeds)
        {
            var camera = feed.Camera;
            w.WriteStartObject(camera.Name);
            w.WriteString("state", camera.Worker.State.ToString().ToLowerInvariant());
            if (camera.LastProcessedAt is { } at)
            {
                w.WriteNumber("last_frame_age_s", Math.Round((now - at) / 1000.0, 2));
            }

            if (camera.Worker.LastError is { } error)
            {
                w.WriteString("last_error", error);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private string? Reason(PipelineProgress progress, TimeSpan? age) => progress switch
    {
        PipelineProgress.Frames => null,
        PipelineProgress.NotRunning => "the pipeline is not running (starting, or every source has ended)",
        PipelineProgress.LoopStuck => string.Create(CultureInfo.InvariantCulture, $"the inference loop has not gone round for {age!.Value.TotalSeconds:0.0} s (limit {_window.TotalSeconds:0.#} s)"),
        _ when age is { } a => string.Create(CultureInfo.InvariantCulture, $"no frame segmented for {a.TotalSeconds:0.0} s (limit {_window.TotalSeconds:0.#} s)"),
        _ => "no frame segmented yet",
    };
}
