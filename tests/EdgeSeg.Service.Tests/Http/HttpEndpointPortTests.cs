using System.Net;
using System.Net.Sockets;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSeg.Service.Tests.Http;

public sealed class HttpEndpointPortTests
{
    [Fact]
    public async Task A_port_taken_by_another_program_costs_the_endpoint_and_not_the_inference()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        using var service = HttpServiceFixture.Start(port);
        await service.Host.StartAsync();

        Assert.Null(service.Host.Services.GetRequiredService<HttpEndpoint>().Address);
        var live = service.Host.Services.GetRequiredService<LiveCameras>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((live.Find("cam1")?.Camera.Processed ?? 0) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(live.Find("cam1")?.Camera.Processed >= 3, "no frames segmented");
        await service.Host.StopAsync();
    }
}
