using System.Diagnostics;
using System.Net.Sockets;

namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>
/// A real mosquitto broker on a free loopback port, started for a test and killed after it. The tests
/// need Debian's mosquitto package (.ci/run installs it); without it, a <c>[SkippableFact]</c> that
/// starts a broker is skipped with that reason.
/// </summary>
internal sealed class MosquittoBroker : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private MosquittoBroker(Process process, int port, string dir)
    {
        _process = process;
        Port = port;
        _dir = dir;
    }

    public int Port { get; }

    public static MosquittoBroker Start() => StartOn(TestFiles.FreePort());

    public static MosquittoBroker StartOn(int port) => StartOn(port, "allow_anonymous true");

    /// <summary>A broker whose listener takes the given settings (TLS files, password file, ACL, …).</summary>
    public static MosquittoBroker StartOn(int port, string settings) => StartOn(port, settings, persistenceDirectory: null);

    /// <summary>
    /// With <paramref name="persistenceDirectory"/>, the broker keeps sessions and queued messages there:
    /// stopped with <see cref="StopGracefully"/> and started again on the same folder, persistent-session
    /// subscribers get what was published while they were away.
    /// </summary>
    public static MosquittoBroker StartOn(int port, string settings, string? persistenceDirectory)
    {
        var exe = Requires.Mosquitto();
        var dir = TestFiles.NewTempDirectory();
        var conf = Path.Combine(dir, "mosquitto.conf");
        var persistence = persistenceDirectory is null ? "persistence false" : $"persistence true\npersistence_location {persistenceDirectory.TrimEnd('/')}/";
        File.WriteAllText(conf, $"""
            per_listener_settings false
            listener {port} 127.0.0.1
            {settings}
            {persistence}
            log_dest stdout
            """);
        var process = Process.Start(new ProcessStartInfo(exe, ["-c", conf])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) { log.Enqueue(line); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { log.Enqueue(line); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var broker = new MosquittoBroker(process, port, dir);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                throw new InvalidOperationException($"mosquitto exited with {process.ExitCode}: {string.Join(" | ", log)}");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", port);
                return broker;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        broker.Dispose();
        throw new TimeoutException($"mosquitto did not listen on {port} within 10 s");
    }

    /// <summary>SIGTERM, as systemd stops it: the broker saves its persistence file and exits.</summary>
    public void StopGracefully()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(10_000))
        {
            _process.Kill();
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
                // A scratch folder left behind is harmless.
            }
        }
    }
}
