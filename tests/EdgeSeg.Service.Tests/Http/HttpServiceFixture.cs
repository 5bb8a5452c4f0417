using System.Net;
using System.Text.Json.Nodes;
using EdgeSeg.Service.Tests.Infrastructure;
using ServiceUnderTest = EdgeSeg.Service.Tests.Mqtt.ServiceWithMosquittoTests.ServiceUnderTest;

namespace EdgeSeg.Service.Tests.Http;

/// <summary>
/// The hosted service with its HTTP endpoint on a free loopback port: camera <c>cam1</c> on a synthetic
/// street through the tiny colour model with the CRF on, and camera <c>gone</c> on a device that does
/// not exist (it reconnects for ever). No broker: the endpoint must not need one.
/// </summary>
public sealed class HttpServiceFixture : IAsyncLifetime
{
    public const int FrameWidth = 160;
    public const int FrameHeight = 96;

    internal ServiceUnderTest Service { get; private set; } = null!;

    internal HttpClient Client { get; private set; } = null!;

    internal Uri BaseAddress { get; private set; } = null!;

    /// <summary>Builds and starts the service; <paramref name="http"/> adds keys to the Http section.</summary>
    internal static ServiceUnderTest Start(int port, JsonObject? http = null, bool withDeadCamera = false)
    {
        var service = ServiceUnderTest.Create(
            "web", TestFiles.FreePort(), windowFrames: 0, model: TestFiles.Fixture("colour_logits.onnx"),
            source: $"synthetic://street?seed=3&size={FrameWidth}x{FrameHeight}&fps=10", windowSeconds: 1,
            configure: c =>
            {
                var section = new JsonObject { ["Enabled"] = true, ["Port"] = port };
                foreach (var (key, value) in http ?? new JsonObject())
                {
                    section[key] = value?.DeepClone();
                }

                c["Http"] = section;
                c["Mqtt"]!["SpoolPath"] = "";
                c["Cameras"]![0]!["Refinement"] = new JsonObject { ["Enabled"] = true };
                if (withDeadCamera)
                {
                    c["Cameras"]!.AsArray().Add(new JsonObject { ["Name"] = "gone", ["Source"] = "v4l2:///dev/video-edgeseg-none" });
                }
            });
        return service;
    }

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="status"/>; returns the last body.</summary>
    internal static async Task<string> WaitForStatusAsync(HttpClient client, string path, HttpStatusCode status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "(no answer)";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(path);
                last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
                if (response.StatusCode == status)
                {
                    return await response.Content.ReadAsStringAsync();
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{path} did not answer {(int)status} within {timeout}; last: {last}");
    }

    public async Task InitializeAsync()
    {
        var port = TestFiles.FreePort();
        Service = Start(port, withDeadCamera: true);
        await Service.Host.StartAsync();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await WaitForStatusAsync(Client, "healthz", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Service.Host.StopAsync();
        Service.Dispose();
    }
}

/// <summary>A running service's camera, as its pipeline has it.</summary>
internal static class LiveCameraLookup
{
    public static EdgeSeg.Pipeline.Processing.CameraChannel GetLiveCamera(this IServiceProvider services, string name) =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<EdgeSeg.Service.Hosting.LiveCameras>(services).Find(name)?.Camera
        ?? throw new InvalidOperationException($"camera {name} is not running");
}
