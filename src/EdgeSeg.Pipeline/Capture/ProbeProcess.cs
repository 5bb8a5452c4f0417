using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace EdgeSeg.Pipeline.Capture;

/// <summary>How a probe's child process ended.</summary>
internal enum ProbeEnd
{
    /// <summary>It exited by itself (see <see cref="ProbeResult.ExitCode"/>).</summary>
    Exited,

    /// <summary>A line of its standard output was the one asked for; the process was stopped then.</summary>
    Matched,

    /// <summary>Neither within the deadline; the process was stopped.</summary>
    TimedOut,
}

/// <summary>What a probe's child process said: its standard output (all of it, or up to the matching line) and its error lines.</summary>
internal sealed record ProbeResult(ProbeEnd End, int? ExitCode, string Output, string? MatchedLine, IReadOnlyList<string> Errors);

/// <summary>
/// Runs a short-lived tool that tells something about a stream (ffprobe, gst-launch-1.0 -v) with a deadline:
/// reads both of its outputs as they come, stops the whole process tree at the deadline or at the first
/// standard-output line the caller waits for, and never leaves the process behind. The callers turn the
/// result into their own messages.
/// </summary>
internal static class ProbeProcess
{
    /// <summary>How long a stopped process gets to go before the result is returned anyway.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(2);

    /// <param name="uri">The stream, named (password hidden) if the tool cannot be started.</param>
    /// <param name="tool">Path or name of the executable.</param>
    /// <param name="arguments">Its arguments, each passed as one.</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="cleanError">Turns a raw error line into the one kept (secrets scrubbed); blank lines are dropped first.</param>
    /// <param name="stopAt">When given, the run ends as <see cref="ProbeEnd.Matched"/> at the first output line it accepts.</param>
    public static ProbeResult Run(
        SourceUri uri, string tool, IEnumerable<string> arguments, TimeSpan timeout, Func<string, string> cleanError, Func<string, bool>? stopAt = null)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var errors = new List<string>();
        var matched = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line || matched.Task.IsCompleted)
            {
                return;
            }

            if (stopAt?.Invoke(line) == true)
            {
                matched.TrySetResult(line);
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                var line = cleanError(e.Data);
                lock (errors)
                {
                    errors.Add(line);
                }
            }
        };

        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new FrameSourceException($"{uri.Redacted}: {Path.GetFileName(tool)} could not be started: {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = Task.WhenAny(matched.Task, exited, Task.Delay(timeout)).GetAwaiter().GetResult();
        var end = first == matched.Task ? ProbeEnd.Matched : first == exited ? ProbeEnd.Exited : ProbeEnd.TimedOut;
        if (end == ProbeEnd.Exited)
        {
            // The parameterless wait also waits for the last output lines to be handled.
            process.WaitForExit();
        }
        else
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It finished just now.
            }

            process.WaitForExit(KillGrace);
        }

        string text;
        lock (output)
        {
            text = output.ToString();
        }

        IReadOnlyList<string> said;
        lock (errors)
        {
            said = [.. errors];
        }

        return new ProbeResult(end, end == ProbeEnd.Exited ? process.ExitCode : null, text, end == ProbeEnd.Matched ? matched.Task.Result : null, said);
    }
}
