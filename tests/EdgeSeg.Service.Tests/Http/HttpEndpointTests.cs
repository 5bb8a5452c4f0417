using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using EdgeSeg.Service.Tests.Infrastructure;
using OpenCvSharp;

namespace EdgeSeg.Service.Tests.Http;

/// <summary>The HTTP endpoint of a running service, read as Prometheus, a script and a browser would.</summary>
public sealed partial class HttpEndpointTests(HttpServiceFixture fixture) : IClassFixture<HttpServiceFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<PrometheusText> ScrapeAsync()
    {
        using var response = await _client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>A histogram's buckets for one camera: cumulative, ending at +Inf, which equals the count.</summary>
    private static void AssertHistogram(PrometheusText metrics, string name, string camera)
    {
        Assert.Equal("histogram", metrics.TypeOf[name]);
        var buckets = metrics.Find($"{name}_bucket", ("camera", camera))
            .Select(s => (Le: PrometheusText.TryValue(s.Labels["le"], out var le) ? le : throw new FormatException($"le=\"{s.Labels["le"]}\""), Count: s.Value))
            .OrderBy(b => b.Le)
            .ToList();
        Assert.True(buckets.Count >= 5, $"{name}: {buckets.Count} buckets");
        Assert.Equal(double.PositiveInfinity, buckets[^1].Le);
        for (var i = 1; i < buckets.Count; i++)
        {
            Assert.True(buckets[i].Count >= buckets[i - 1].Count, $"{name}: bucket le={buckets[i].Le} has fewer than le={buckets[i - 1].Le}");
        }

        var count = metrics.Value($"{name}_count", ("camera", camera));
        Assert.True(count > 0, $"{name}: nothing observed");
        Assert.Equal(count, buckets[^1].Count);
        Assert.True(metrics.Value($"{name}_sum", ("camera", camera)) > 0);
    }

    [Fact]
    public async Task Metrics_parse_as_Prometheus_text_with_growing_per_camera_counters_latency_histograms_and_process_figures()
    {
        var first = await ScrapeAsync();
        var processed = first.Value("edgeseg_frames_processed_total", ("camera", "cam1"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        PrometheusText second;
        do
        {
            await Task.Delay(500);
            second = await ScrapeAsync();
        }
        while (DateTime.UtcNow < deadline
               && (second.Value("edgeseg_frames_processed_total", ("camera", "cam1")) <= processed || second.Value("edgeseg_camera_fps", ("camera", "cam1")) <= 0));

        Assert.True(second.Value("edgeseg_frames_processed_total", ("camera", "cam1")) > processed, "frames processed did not grow between scrapes");
        Assert.True(second.Value("edgeseg_frames_captured_total", ("camera", "cam1")) >= second.Value("edgeseg_frames_processed_total", ("camera", "cam1")));
        Assert.True(second.Value("edgeseg_camera_fps", ("camera", "cam1")) > 0);
        Assert.True(second.Value("edgeseg_frames_dropped_total", ("camera", "cam1")) >= 0);
        Assert.Equal(1, second.Value("edgeseg_camera_streaming", ("camera", "cam1")));

        // The camera that never opens: reconnecting, counted, and it holds nothing up.
        Assert.Equal(0, second.Value("edgeseg_camera_streaming", ("camera", "gone")));
        Assert.True(second.Value("edgeseg_reconnects_total", ("camera", "gone")) >= 1);
        Assert.Equal(0, second.Value("edgeseg_frames_processed_total", ("camera", "gone")));

        AssertHistogram(second, "edgeseg_inference_seconds", "cam1");
        AssertHistogram(second, "edgeseg_crf_seconds", "cam1");
        Assert.True(second.Value("edgeseg_spool_depth") >= 0);
        Assert.Equal(0, second.Value("edgeseg_mqtt_connected"));
        Assert.Equal(1, second.Value("edgeseg_execution_provider_info", ("provider", "CPU"), ("model", "colour-logits")));
        Assert.True(second.Value("process_cpu_seconds_total") > 0);
        Assert.True(second.Value("process_working_set_bytes") > 0);
        Assert.True(second.Value("process_cpu_seconds_total") >= first.Value("process_cpu_seconds_total"));
    }

    [Fact]
    public async Task A_snapshot_is_a_JPEG_of_the_frame_and_bad_requests_get_their_reason_while_the_camera_goes_on()
    {
        using (var response = await _client.GetAsync("cameras/cam1/snapshot.jpg"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            using var image = Cv2.ImDecode(bytes, ImreadModes.Color);
            Assert.False(image.Empty(), "not a decodable image");
            Assert.Equal((HttpServiceFixture.FrameWidth, HttpServiceFixture.FrameHeight), (image.Width, image.Height));
        }

        var bad = new (string Method, string Path, HttpStatusCode Status, string Reason)[]
        {
            ("GET", "cameras/nobody/snapshot.jpg", HttpStatusCode.NotFound, "no camera named 'nobody' (cameras: cam1, gone)"),
            ("GET", "cameras/nobody/stream.mjpg", HttpStatusCode.NotFound, "no camera named 'nobody'"),
            ("GET", "cameras/gone/snapshot.jpg", HttpStatusCode.ServiceUnavailable, "camera 'gone' has no segmented frame yet"),
            ("GET", "no/such/page", HttpStatusCode.NotFound, "nothing at '/no/such/page'"),
            ("GET", "cameras/cam1/snapshot.png", HttpStatusCode.NotFound, "nothing at '/cameras/cam1/snapshot.png'"),
            ("POST", "healthz", HttpStatusCode.MethodNotAllowed, "every endpoint is read-only"),
            ("DELETE", "cameras/cam1/snapshot.jpg", HttpStatusCode.MethodNotAllowed, "every endpoint is read-only"),
        };
        var processed = fixture.Service.Host.Services.GetLiveCamera("cam1").Processed;
        foreach (var (method, path, status, reason) in bad)
        {
            using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode} {body}");
            Assert.Contains(reason, body, StringComparison.Ordinal);
        }

        await HttpServiceFixture.WaitForStatusAsync(_client, "healthz", HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        Assert.True(fixture.Service.Host.Services.GetLiveCamera("cam1").Processed > processed, "cam1 stopped while bad requests came in");
    }

    [Fact]
    public async Task The_mjpeg_stream_sends_one_decodable_overlay_after_another()
    {
        using var response = await _client.GetAsync("cameras/cam1/stream.mjpg", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("multipart/x-mixed-replace", response.Content.Headers.ContentType?.MediaType);
        var boundary = Assert.Single(response.Content.Headers.ContentType!.Parameters, p => p.Name == "boundary").Value;
        await using var stream = await response.Content.ReadAsStreamAsync();
        var sequences = new List<string>();
        for (var part = 0; part < 3; part++)
        {
            var headers = new List<string>();
            for (var line = await ReadLineAsync(stream); line.Length > 0; line = await ReadLineAsync(stream))
            {
                headers.Add(line);
            }

            Assert.Equal($"--{boundary}", headers[0]);
            Assert.Contains("Content-Type: image/jpeg", headers);
            var length = int.Parse(headers.Single(h => h.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..], CultureInfo.InvariantCulture);
            var jpeg = new byte[length];
            await stream.ReadExactlyAsync(jpeg);
            Assert.Equal(string.Empty, await ReadLineAsync(stream));
            using var image = Cv2.ImDecode(jpeg, ImreadModes.Color);
            Assert.Equal((HttpServiceFixture.FrameWidth, HttpServiceFixture.FrameHeight), (image.Width, image.Height));
            sequences.Add(Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(jpeg)));
        }

        Assert.True(sequences.Distinct().Count() > 1, "the stream repeated one frame");
    }

    [ChromiumFact]
    public async Task The_page_shows_each_camera_with_its_overlay_and_shares_in_headless_Chromium()
    {
        var dom = await HeadlessChromium.DumpDomAsync(fixture.BaseAddress.ToString(), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(120));

        Assert.Contains("colour-logits on CPU", dom, StringComparison.Ordinal);
        var card = CameraCard().Match(dom);
        Assert.True(card.Success, $"no card for cam1 in: {dom}");
        var html = card.Value;
        Assert.Contains("<h2>cam1", html, StringComparison.Ordinal);
        Assert.Matches("<img [^>]*src=\"cameras/cam1/snapshot\\.jpg", html);
        Assert.Contains("href=\"cameras/cam1/stream.mjpg\"", html, StringComparison.Ordinal);
        // The script filled in the newest window's shares: class names of the model with percentages.
        var shares = ShareRow().Matches(html);
        Assert.True(shares.Count > 0, $"no shares in cam1's card: {html}");
        Assert.All(shares, m => Assert.Contains(m.Groups["class"].Value, new[] { "red", "green", "blue" }));
        Assert.Contains("data-camera=\"gone\"", dom, StringComparison.Ordinal);
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one);
            if (one[0] == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)one[0]);
        }
    }

    [GeneratedRegex("<section class=\"camera\" data-camera=\"cam1\">.*?</section>", RegexOptions.Singleline)]
    private static partial Regex CameraCard();

    [GeneratedRegex("<tr data-class=\"(?<class>[^\"]+)\">.*?<td class=\"share\">(?<share>[0-9.]+) %</td></tr>", RegexOptions.Singleline)]
    private static partial Regex ShareRow();
}
