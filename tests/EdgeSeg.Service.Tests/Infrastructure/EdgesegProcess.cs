using System.Diagnostics;
using System.Text;

namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>Runs the built <c>edgeseg</c> executable as a separate process, as a user or systemd would.</summary>
internal static class EdgesegProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Task<Result> RunAsync(TimeSpan timeout, params string[] args) =>
        RunProgramAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgeseg.dll"), .. args], timeout, $"edgeseg {string.Join(' ', args)}");

    /// <summary>Runs <paramref name="program"/> to its end with stdin closed; killed (and a <see cref="TimeoutException"/>) past <paramref name="timeout"/>.</summary>
    public static async Task<Result> RunProgramAsync(string program, IEnumerable<string> args, TimeSpan timeout, string? what = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what ?? program} ran over {timeout}: {stdout}{stderr}");
        }

        process.WaitForExit();
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
