using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Cli;

public sealed class ProbeCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Probing_a_source_prints_its_backend_size_and_rate()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "probe", "synthetic://street?size=160x80&fps=20", "--frames", "5");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("backend   synthetic street renderer", r.Output, StringComparison.Ordinal);
        Assert.Contains("announced 20 fps", r.Output, StringComparison.Ordinal);
        Assert.Contains("delivered 5 frames of 160x80", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_camera_that_refuses_is_reported_with_the_reason_and_without_its_password()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "probe", $"rtsp://admin:hunter2@127.0.0.1:{TestFiles.FreePort()}/stream");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot open", r.Error, StringComparison.Ordinal);
        Assert.Contains("Connection refused", r.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", r.Error + r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsupported_uri_is_a_usage_error()
    {
        var r = await EdgesegProcess.RunAsync(Timeout, "probe", "gopher://camera");
        Assert.Equal(64, r.ExitCode);
        Assert.Contains("unsupported scheme 'gopher'", r.Error, StringComparison.Ordinal);
    }
}
