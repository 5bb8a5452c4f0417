using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeSeg.Benchmarks;

/// <summary>
/// Runs the real service (<c>edgeseg run</c>, as a child process) for N minutes against a real RTSP camera
/// that is killed and started again and a real mosquitto that goes away and comes back, beside a
/// synthetic camera that never stops; a persistent-session subscriber counts what arrives. Prints the
/// service's resident memory over time, frames, windows published and lost, reconnects and spool use.
/// A benchmark, not a test: it reports, it does not judge.
/// </summary>
internal static class SoakBenchmark
{
    public static int Run(string[] args)
    {
        double minutes = 60, cameraPeriod = 300, cameraDown = 20, brokerPeriod = 420, brokerDown = 30;
        var environment = new List<string>();
        string? build = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--edgeseg")
            {
                // A copy of the build, so that rebuilding the tree during a long soak leaves it alone.
                build = Path.GetFullPath(args[i + 1]);
                continue;
            }

            if (args[i] == "--env")
            {
                // NAME=VALUE for the service's process (e.g. MALLOC_ARENA_MAX=2), to compare settings.
                environment.Add(args[i + 1]);
                continue;
            }

            var v = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--minutes": minutes = v; break;
                case "--camera-period": cameraPeriod = v; break;
                case "--camera-down": cameraDown = v; break;
                case "--broker-period": brokerPeriod = v; break;
                case "--broker-down": brokerDown = v; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var root = FindRoot();
        var edgeseg = build ?? Path.Combine(root, "src/EdgeSeg.Service/bin/Release/net10.0/edgeseg.dll");
        if (!File.Exists(edgeseg))
        {
            Console.Error.WriteLine($"soak: {edgeseg} is missing; build first: dotnet build src/EdgeSeg.Service -c Release");
            return 2;
        }

        var dir = Directory.CreateTempSubdirectory("edgeseg-soak-").FullName;
        int brokerPort = FreePort(), cameraPort = FreePort(), httpPort = FreePort();
        var persistence = Path.Combine(dir, "broker");
        Directory.CreateDirectory(persistence);
        File.WriteAllText(Path.Combine(dir, "mosquitto.conf"), $"listener {brokerPort} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {persistence}/\nautosave_interval 10\n");
        var config = new JsonObject
        {
            ["DeviceId"] = "soak",
            ["Cameras"] = new JsonArray(
                new JsonObject { ["Name"] = "rtsp", ["Source"] = $"rtsp://127.0.0.1:{cameraPort}/test" },
                new JsonObject { ["Name"] = "street", ["Source"] = "synthetic://street?seed=7&size=512x256&fps=5" }),
            ["Mqtt"] = new JsonObject { ["Port"] = brokerPort, ["SpoolPath"] = Path.Combine(dir, "spool.db") },
            ["Statistics"] = new JsonObject { ["WindowSeconds"] = 5 },
            ["Model"] = new JsonObject { ["Threads"] = 1 },
            // For the managed heap beside the resident set (prometheus-net's dotnet_total_memory_bytes).
            ["Http"] = new JsonObject { ["Enabled"] = true, ["Port"] = httpPort },
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
        };
        var configPath = Path.Combine(dir, "edgeseg.json");
        File.WriteAllText(configPath, config.ToJsonString());
        var received = Path.Combine(dir, "received.txt");

        Process? broker = null, camera = null, subscriber = null;
        void StartBroker()
        {
            broker = Start("mosquitto", ["-c", Path.Combine(dir, "mosquitto.conf")], Path.Combine(dir, "mosquitto.log"));
            WaitForPort(brokerPort);
            // A persistent session (-c, fixed id, QoS 1): what the broker holds for it while it is away arrives later.
            subscriber = Start("sh", ["-c", $"exec mosquitto_sub -h 127.0.0.1 -p {brokerPort} -c -i soak-viewer -q 1 -v -t 'edgeseg/soak/#' >> '{received}'"], null);
        }

        void StopBroker()
        {
            Stop(subscriber);
            Stop(broker);
        }

        void StartCamera()
        {
            camera = Start("/usr/bin/python3", [Path.Combine(root, "tests/fixtures/rtsp_server.py"), cameraPort.ToString(CultureInfo.InvariantCulture)], null);
            WaitForPort(cameraPort);
        }

        StartBroker();
        StartCamera();
        var service = Start("dotnet", [edgeseg, "run", "--config", configPath], Path.Combine(dir, "service.log"), environment);
        var clock = Stopwatch.StartNew();
        var rss = new List<(double Minute, long Kib)>();
        double nextCamera = cameraPeriod, nextBroker = brokerPeriod, cameraBack = double.MaxValue, brokerBack = double.MaxValue;
        int cameraOutages = 0, brokerOutages = 0;
        var nextSample = 60.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak: {minutes} min; camera down {cameraDown} s every {cameraPeriod} s, broker down {brokerDown} s every {brokerPeriod} s; service environment: {(environment.Count == 0 ? "as is" : string.Join(' ', environment))}; work in {dir}"));
        while (clock.Elapsed.TotalMinutes < minutes)
        {
            var t = clock.Elapsed.TotalSeconds;
            if (service.HasExited)
            {
                Console.Error.WriteLine($"soak: the service exited with {service.ExitCode} at {t:0} s; see {dir}/service.log");
                break;
            }

            if (t >= nextCamera && camera is not null)
            {
                Stop(camera);
                camera = null;
                cameraOutages++;
                cameraBack = t + cameraDown;
                nextCamera += cameraPeriod;
            }
            else if (t >= cameraBack)
            {
                StartCamera();
                cameraBack = double.MaxValue;
            }

            if (t >= nextBroker && brokerBack == double.MaxValue)
            {
                StopBroker();
                brokerOutages++;
                brokerBack = t + brokerDown;
                nextBroker += brokerPeriod;
            }
            else if (t >= brokerBack)
            {
                StartBroker();
                brokerBack = double.MaxValue;
            }

            if (t >= nextSample)
            {
                var kib = Rss(service.Id);
                rss.Add((t / 60, kib));
                var (threads, fds) = Handles(service.Id);
                var metrics = Scrape(httpPort);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  minute {t / 60,5:0.0}  RSS {kib / 1024.0,7:0.0} MiB  GC committed {Value(metrics, "edgeseg_gc_committed_bytes") / 1048576.0,6:0.0} MiB  allocated {Value(metrics, "dotnet_total_memory_bytes") / 1048576.0,6:0.0} MiB  threads {threads,3}  fds {fds,3}  lines received {CountLines(received)}"));
                nextSample += 60;
            }

            Thread.Sleep(200);
        }

        // Let the spool drain to a broker that is up, then stop everything.
        if (brokerBack != double.MaxValue)
        {
            StartBroker();
        }

        Thread.Sleep(15000);
        var finalRss = Rss(service.Id);
        Stop(service, graceful: true);
        Thread.Sleep(2000);
        Stop(subscriber);
        Stop(camera);
        Stop(broker);
        Report(received, rss, finalRss, clock.Elapsed, cameraOutages, brokerOutages);
        return 0;
    }

    private static void Report(string received, List<(double Minute, long Kib)> rss, long finalRss, TimeSpan elapsed, int cameraOutages, int brokerOutages)
    {
        var windows = new Dictionary<(string Camera, string Run), HashSet<long>>();
        long frames = 0, duplicates = 0;
        JsonNode? health = null;
        var statuses = new Dictionary<string, List<string>>();
        foreach (var line in File.Exists(received) ? File.ReadLines(received) : [])
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
            {
                continue;
            }

            var topic = line[..space];
            JsonNode? payload;
            try
            {
                payload = JsonNode.Parse(line[(space + 1)..]);
            }
            catch (JsonException)
            {
                continue;
            }

            if (topic.EndsWith("/stats", StringComparison.Ordinal) && payload is not null)
            {
                var key = (payload["camera"]!.GetValue<string>(), payload["run"]!.GetValue<string>());
                if (!windows.TryGetValue(key, out var seqs))
                {
                    windows[key] = seqs = [];
                }

                if (!seqs.Add(payload["seq"]!.GetValue<long>()))
                {
                    duplicates++;
                    continue;
                }

                frames += payload["window"]!["frames"]!.GetValue<long>();
            }
            else if (topic.EndsWith("/health", StringComparison.Ordinal))
            {
                health = payload;
            }
            else if (topic.EndsWith("/status", StringComparison.Ordinal) && payload is JsonObject status && status["state"] is { } state)
            {
                var camera = topic.Split('/')[^2];
                (statuses.TryGetValue(camera, out var list) ? list : statuses[camera] = []).Add(state.GetValue<string>());
            }
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"ran {elapsed.TotalMinutes:0.0} min; camera outages {cameraOutages}, broker outages {brokerOutages}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end"));
        foreach (var ((camera, run), seqs) in windows.OrderBy(w => w.Key.Camera))
        {
            var published = seqs.Max();
            Console.WriteLine(string.Create(inv, $"camera {camera,-7} run {run}: windows published {published}, received {seqs.Count}, lost {published - seqs.Count}"));
        }

        Console.WriteLine(string.Create(inv, $"frames in received windows {frames}; duplicate deliveries {duplicates}"));
        if (health?["cameras"] is JsonObject cams)
        {
            foreach (var (name, c) in cams)
            {
                Console.WriteLine(string.Create(inv, $"health: camera {name} reconnects {c!["reconnects"]}, captured {c["captured"]}, processed {c["processed"]}, dropped {c["dropped"]}"));
            }

            Console.WriteLine(string.Create(inv, $"health: spool depth {health["spool_depth"]}, dropped {health["spool_dropped"]}, published {health["published"]}"));
        }

        foreach (var (camera, list) in statuses)
        {
            Console.WriteLine($"camera {camera} status transitions seen: {list.Count} ({string.Join(" ", list.Take(12))}{(list.Count > 12 ? " …" : string.Empty)})");
        }

        if (rss.Count > 0)
        {
            double At(double minute) => rss.MinBy(r => Math.Abs(r.Minute - minute)).Kib / 1024.0;
            var end = finalRss / 1024.0;
            Console.WriteLine(string.Create(inv, $"RSS MiB: minute 1 {At(1):0.0}, minute 10 {At(10):0.0}, middle {At(elapsed.TotalMinutes / 2):0.0}, end {end:0.0}; end / minute 10 = {end / At(10):0.000}"));
        }
    }

    private static Process Start(string file, string[] arguments, string? log, IReadOnlyList<string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = log is not null, RedirectStandardError = log is not null };
        foreach (var pair in environment ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            info.Environment[pair[..eq]] = pair[(eq + 1)..];
        }

        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var p = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        if (log is not null)
        {
            var writer = TextWriter.Synchronized(new StreamWriter(log, append: true) { AutoFlush = true });
            p.OutputDataReceived += (_, e) => { if (e.Data is { } l) { writer.WriteLine(l); } };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) { writer.WriteLine(l); } };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
        }

        return p;
    }

    private static void Stop(Process? p, bool graceful = false)
    {
        if (p is null || p.HasExited)
        {
            return;
        }

        if (graceful)
        {
            // SIGTERM, as systemd stops the service.
            Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            if (p.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                return;
            }
        }

        p.Kill(entireProcessTree: true);
        p.WaitForExit(TimeSpan.FromSeconds(10));
    }

    private static long Rss(int pid) => StatusField(pid, "VmRSS:");

    /// <summary>Threads and open file descriptors of the process: a leak of either shows here first.</summary>
    private static (int Threads, int Fds) Handles(int pid)
    {
        try
        {
            return ((int)StatusField(pid, "Threads:"), Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (0, 0);
        }
    }

    /// <summary>The number after <paramref name="key"/> in /proc/PID/status (VmRSS in KiB, Threads), 0 when gone.</summary>
    private static long StatusField(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The service's /metrics text, or empty when it does not answer.</summary>
    private static string Scrape(int port)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            return http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return string.Empty;
        }
    }

    /// <summary>The value of an unlabelled series in Prometheus text, NaN when absent.</summary>
    private static double Value(string metrics, string name)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is not null && double.TryParse(line.AsSpan(name.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
    }

    private static int CountLines(string path) => File.Exists(path) ? File.ReadLines(path).Count() : 0;

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static void WaitForPort(int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"nothing listens on {port} after 20 s");
    }

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "EdgeSeg.sln")))
                {
                    return d.FullName;
                }
            }
        }

        throw new InvalidOperationException("EdgeSeg.sln not found above the benchmark or the current directory");
    }
}
