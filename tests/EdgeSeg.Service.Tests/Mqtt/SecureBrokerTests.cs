using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using EdgeSeg.Service.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace EdgeSeg.Service.Tests.Mqtt;

/// <summary>
/// A real mosquitto with TLS (a CA, server and client certificates made here with openssl), a password
/// file and an ACL: the service connects with its client certificate and a password read from a file,
/// and a publish the ACL forbids is refused and shows in health.
/// </summary>
public sealed class SecureBrokerTests
{
    private readonly string _dir = TestFiles.NewTempDirectory();

    private void OpenSsl(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("openssl", args) { WorkingDirectory = _dir, RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"openssl {string.Join(' ', args)}: {error}");
    }

    private void Certificates()
    {
        OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=EdgeSeg test CA", "-keyout", "ca.key", "-out", "ca.crt");
        File.WriteAllText(Path.Combine(_dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        OpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
        OpenSsl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt");
        foreach (var name in new[] { "device", "probe" })
        {
            OpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={name}", "-keyout", $"{name}.key", "-out", $"{name}.csr");
            OpenSsl("x509", "-req", "-in", $"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", $"{name}.crt");
        }
    }

    private MosquittoBroker Broker(int port)
    {
        Certificates();
        var passwd = Path.Combine(_dir, "passwd");
        foreach (var (user, password) in new[] { ("edgeseg", "s3cret device"), ("probe", "probe") })
        {
            using var p = Process.Start(new ProcessStartInfo("mosquitto_passwd", [.. File.Exists(passwd) ? Array.Empty<string>() : ["-c"], "-b", passwd, user, password]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }

        // The device may write its status and health, but not its stats: a narrower ACL than its prefix.
        File.WriteAllText(Path.Combine(_dir, "acl"), """
            user edgeseg
            topic readwrite edgeseg/secure/status
            topic readwrite edgeseg/secure/health
            user probe
            topic read #
            """);
        // Started as root, mosquitto reads its files as the 'mosquitto' user.
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in Directory.GetFiles(_dir))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        return MosquittoBroker.StartOn(port, $"""
            cafile {_dir}/ca.crt
            certfile {_dir}/server.crt
            keyfile {_dir}/server.key
            require_certificate true
            allow_anonymous false
            password_file {passwd}
            acl_file {_dir}/acl
            """);
    }

    private async Task<IMqttClient> Probe(int port, List<(string Topic, string Payload)> received)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            lock (received)
            {
                received.Add((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            }

            return Task.CompletedTask;
        };
        var ca = new X509Certificate2Collection();
        ca.ImportFromPemFile(Path.Combine(_dir, "ca.crt"));
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId("secure-probe")
            .WithCredentials("probe", "probe")
            .WithTlsOptions(t => t.UseTls().WithTargetHost("localhost").WithTrustChain(ca)
                .WithClientCertificates([X509Certificate2.CreateFromPemFile(Path.Combine(_dir, "probe.crt"), Path.Combine(_dir, "probe.key"))]))
            .Build());
        await client.SubscribeAsync("edgeseg/#");
        return client;
    }

    [SkippableFact]
    public async Task Connects_with_a_ca_file_a_client_certificate_and_a_password_file_and_reports_acl_refusals_in_health()
    {
        var port = TestFiles.FreePort();
        using var broker = Broker(port);
        File.WriteAllText(Path.Combine(_dir, "mqtt-password"), "s3cret device\n");
        var config = Path.Combine(_dir, "edgeseg.json");
        File.WriteAllText(config, new JsonObject
        {
            ["DeviceId"] = "secure",
            ["Model"] = new JsonObject { ["Path"] = TestFiles.Fixture("colour_logits.onnx") },
            ["Cameras"] = new JsonArray(new JsonObject { ["Name"] = "cam1", ["Source"] = "synthetic://street?size=128x64&fps=20" }),
            ["Mqtt"] = new JsonObject
            {
                ["Host"] = "127.0.0.1",
                ["Port"] = port,
                ["ServerName"] = "localhost",
                ["UseTls"] = true,
                ["CaFile"] = "ca.crt",
                ["ClientCertificateFile"] = "device.crt",
                ["ClientKeyFile"] = "device.key",
                ["Username"] = "edgeseg",
                ["PasswordFile"] = "mqtt-password",
                ["SpoolPath"] = "spool.db",
            },
            ["Statistics"] = new JsonObject { ["WindowFrames"] = 2 },
        }.ToJsonString());

        var received = new List<(string Topic, string Payload)>();
        var probe = await Probe(port, received);
        var loaded = ConfigurationLoader.Load(config, new Dictionary<string, string?>());
        using var segmenter = AppStartup.LoadModel(loaded, Console.Error)!;
        using var refinements = AppStartup.Cameras(loaded, segmenter, Console.Error)!;
        using var host = ServiceHost.Build(loaded, segmenter, refinements, LogLevel.Warning);
        await host.StartAsync();

        var publisher = host.Services.GetService(typeof(EdgeSeg.Service.Mqtt.MqttStatsPublisher)) as EdgeSeg.Service.Mqtt.MqttStatsPublisher;
        Assert.NotNull(publisher);
        var deadline = Stopwatch.StartNew();
        bool HealthShowsRefusal()
        {
            lock (received)
            {
                return received.Any(m => m.Topic == "edgeseg/secure/health" && JsonNode.Parse(m.Payload)!["refused"]!.GetValue<long>() >= 1);
            }
        }

        while ((publisher.Refused < 2 || !HealthShowsRefusal()) && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        await host.StopAsync();
        await probe.DisconnectAsync();
        probe.Dispose();

        Assert.True(publisher.Refused >= 2, $"refused {publisher.Refused}");
        Assert.StartsWith("edgeseg/secure/cam1/stats: NotAuthorized", publisher.LastRefusal, StringComparison.Ordinal);
        lock (received)
        {
            Assert.Contains(received, m => m.Topic == "edgeseg/secure/status" && m.Payload == "online");
            foreach (var m in received)
            {
                PayloadSchemas.AssertValid(m.Topic.EndsWith("/health", StringComparison.Ordinal) ? "health" : "status", m.Payload);
            }

            Assert.DoesNotContain(received, m => m.Topic.EndsWith("/stats", StringComparison.Ordinal));
            var health = received.Where(m => m.Topic == "edgeseg/secure/health").Select(m => JsonNode.Parse(m.Payload)!).ToList();
            Assert.NotEmpty(health);
            Assert.True(health[^1]["broker_connected"]!.GetValue<bool>());
            Assert.True(health[^1]["refused"]!.GetValue<long>() >= 1);
        }
    }

    [SkippableFact]
    public async Task A_broker_certificate_from_another_ca_is_refused()
    {
        var port = TestFiles.FreePort();
        using var broker = Broker(port);
        var other = TestFiles.NewTempDirectory();
        using (var p = Process.Start(new ProcessStartInfo("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Other CA", "-keyout", "o.key", "-out", "o.crt"]) { WorkingDirectory = other, RedirectStandardError = true })!)
        {
            await p.WaitForExitAsync();
        }

        var options = new MqttOptions
        {
            Host = "127.0.0.1", Port = port, ServerName = "localhost", UseTls = true, CaFile = Path.Combine(other, "o.crt"),
            ClientCertificateFile = Path.Combine(_dir, "device.crt"), ClientKeyFile = Path.Combine(_dir, "device.key"),
            Username = "edgeseg", Password = "s3cret device",
        };
        var builder = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("wrong-ca");
        EdgeSeg.Service.Mqtt.MqttConnection.Configure(builder, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using var client = new MqttClientFactory().CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(builder.Build()));
        Assert.False(client.IsConnected);
        _ = JsonDocument.Parse("{}");
    }
}
