using System.Net;
using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Service.Tests.Infrastructure;
using EdgeSeg.Service.Tests.Mqtt;

namespace EdgeSeg.Service.Tests.Http;

/// <summary><c>/healthz</c> of a running service, as the inference loop and the cameras stop and go on.</summary>
public sealed class HealthEndpointTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A started service and a client of its endpoint.</summary>
    private sealed class Running(ServiceWithMosquittoTests.ServiceUnderTest service, HttpClient client, string health) : IDisposable
    {
        public ServiceWithMosquittoTests.ServiceUnderTest Service => service;

        public HttpClient Client => client;

        /// <summary>The first /healthz body that came with 200.</summary>
        public string Health => health;

        public void Dispose()
        {
            client.Dispose();
            service.Dispose();
        }
    }

    /// <summary>The service with a 2-second stall window, once /healthz has said 200.</summary>
    private static async Task<Running> StartHealthyAsync()
    {
        var port = TestFiles.FreePort();
        var service = HttpServiceFixture.Start(port, new JsonObject { ["StallSeconds"] = 2 });
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await service.Host.StartAsync();
            return new Running(service, client, await HttpServiceFixture.WaitForStatusAsync(client, "healthz", HttpStatusCode.OK, TimeSpan.FromSeconds(60)));
        }
        catch
        {
            client.Dispose();
            service.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task Healthz_is_200_while_frames_flow_503_with_the_reason_while_the_inference_loop_is_stuck_and_200_once_it_goes_on()
    {
        using var running = await StartHealthyAsync();
        var (service, client) = (running.Service, running.Client);
        var ok = JsonNode.Parse(running.Health)!;
        Assert.Equal("ok", ok["status"]!.GetValue<string>());
        Assert.Equal("streaming", ok["cameras"]!["cam1"]!["state"]!.GetValue<string>());
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }

        // The loop stops for real: a handler on the inference thread that does not return, as a model
        // run stuck in a driver would.
        using var release = new ManualResetEventSlim();
        var camera = service.Host.Services.GetLiveCamera("cam1");
        camera.RequestSnapshot((in SegmentedFrame _) => release.Wait(TimeSpan.FromMinutes(2)));
        try
        {
            var stalled = JsonNode.Parse(await HttpServiceFixture.WaitForStatusAsync(client, "healthz", HttpStatusCode.ServiceUnavailable, Patience))!;
            Assert.Equal("stalled", stalled["status"]!.GetValue<string>());
            Assert.StartsWith("the inference loop has not gone round for", stalled["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.True(stalled["loop_age_s"]!.GetValue<double>() >= 2);

            // Everything else still answers while the loop is stuck.
            using var metrics = await client.GetAsync("metrics");
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            PrometheusText.Parse(await metrics.Content.ReadAsStringAsync());
        }
        finally
        {
            release.Set();
        }

        await HttpServiceFixture.WaitForStatusAsync(client, "healthz", HttpStatusCode.OK, Patience);
        await service.Host.StopAsync();
    }

    [Fact]
    public async Task Healthz_turns_503_when_no_frame_comes_although_the_loop_goes_round_and_200_when_frames_return()
    {
        using var running = await StartHealthyAsync();
        var (service, client) = (running.Service, running.Client);

        // The camera stalls: one frame every 10 s from now on.
        var camera = service.Host.Services.GetLiveCamera("cam1");
        camera.Worker.MaxFps = 0.1;
        var stalled = JsonNode.Parse(await HttpServiceFixture.WaitForStatusAsync(client, "healthz", HttpStatusCode.ServiceUnavailable, Patience))!;
        Assert.StartsWith("no frame segmented for", stalled["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(stalled["last_frame_age_s"]!.GetValue<double>() >= 2);

        camera.Worker.MaxFps = null;
        await HttpServiceFixture.WaitForStatusAsync(client, "healthz", HttpStatusCode.OK, Patience);
        await service.Host.StopAsync();
    }
}
