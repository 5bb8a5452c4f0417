using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EdgeSeg.Pipeline.Tests.Capture;

/// <summary>
/// A real stream server in a child process on a loopback port, started for a test and killed after
/// it: GStreamer's RTSP server (tests/fixtures/rtsp_server.py) or Python's http.server. Debian's
/// <c>/usr/bin/python3</c> is used because it is the one that has the GObject bindings (python3-gi).
/// </summary>
internal sealed partial class StreamServer : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly Process _process;
    private bool _frozen;

    private StreamServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A free loopback port (there is a small window before the server binds it; acceptable in tests).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the RTSP server; it serves a 320x240, 15 fps H.264 test pattern at /test.</summary>
    public static Task<StreamServer> StartRtspAsync(int? port = null, string? user = null, string? password = null)
    {
        var p = port ?? FreePort();
        List<string> args = [TestFiles.Fixture("rtsp_server.py"), p.ToString(CultureInfo.InvariantCulture)];
        if (user is not null)
        {
            args.AddRange(["--user", user, "--password", password ?? string.Empty]);
        }

        return StartAsync(args, p, "ready");
    }

    /// <summary>Serves the files of <paramref name="directory"/> over HTTP.</summary>
    public static Task<StreamServer> StartHttpAsync(string directory)
    {
        var p = FreePort();

        // -u: unbuffered, so the "Serving HTTP" line arrives as soon as the socket is bound.
        return StartAsync(
            ["-u", "-m", "http.server", p.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--directory", directory],
            p,
            "Serving HTTP");
    }

    /// <summary>Stops the server without closing its connections, like a camera that hangs.</summary>
    public void Freeze()
    {
        Assert.Equal(0, Signal(_process.Id, SigStop));
        _frozen = true;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                if (_frozen)
                {
                    Signal(_process.Id, SigCont);
                }

                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static async Task<StreamServer> StartAsync(IEnumerable<string> args, int port, string readyMarker)
    {
        Skip.IfNot(File.Exists(Python), $"{Python} is missing (scripts/install-deps.sh test installs python3-gi)");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new List<string>();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains(readyMarker, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Add(e.Data);
                }

                // http.server logs to stderr; its start line comes there on some Python versions.
                if (e.Data.Contains(readyMarker, StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("the server exited"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new StreamServer(process, port);
        try
        {
            // Generous: Python and GStreamer start slowly on two busy cores.
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return server;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            server.Dispose();
            string said;
            lock (errors)
            {
                said = string.Join(Environment.NewLine, errors);
            }

            throw new InvalidOperationException($"{string.Join(' ', args)} did not start: {e.Message}{Environment.NewLine}{said}", e);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Signal(int pid, int signal);
}

/// <summary>The test host's own child processes, read from /proc, to check that none is left behind.</summary>
/// <summary>
/// Tests that count this machine's ffmpeg processes ("none outlived the source") must not run beside
/// other tests that start ffmpeg: one collection runs them one class at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FfmpegProcesses
{
    public const string Name = "ffmpeg processes";
}

internal static class ChildProcesses
{
    /// <summary>Children of this process whose command name is <paramref name="name"/>, zombies included.</summary>
    public static List<int> Named(string name)
    {
        var self = Environment.ProcessId;
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            // "pid (comm) state ppid …"; comm may contain spaces or parentheses, so split at the last ')'.
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            if (open < 0 || close < open)
            {
                continue;
            }

            var comm = stat[(open + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            if (comm == name && fields.Length > 1 && fields[1] == self.ToString(CultureInfo.InvariantCulture))
            {
                result.Add(pid);
            }
        }

        return result;
    }

    /// <summary>Waits (bounded) until no child named <paramref name="name"/> is left.</summary>
    public static bool WaitUntilNone(string name, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (Named(name).Count > 0)
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }
}
