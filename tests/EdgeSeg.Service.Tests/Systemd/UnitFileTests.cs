using System.Diagnostics;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Systemd;

public sealed class UnitFileTests
{
    private static readonly string Unit = Path.Combine(RepositoryRoot.Path, "systemd", "edgeseg.service");

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void The_unit_passes_systemd_analyze_verify()
    {
        // verify insists that ExecStart's binary exists; only that path is swapped for one that does,
        // every other directive is checked as shipped.
        var dir = TestFiles.NewTempDirectory();
        var copy = Path.Combine(dir, "edgeseg.service");
        var text = File.ReadAllText(Unit);
        Assert.Contains("ExecStart=/opt/edgeseg/edgeseg run --config /etc/edgeseg/edgeseg.json", text, StringComparison.Ordinal);
        File.WriteAllText(copy, text.Replace("ExecStart=/opt/edgeseg/edgeseg ", "ExecStart=/usr/bin/true ", StringComparison.Ordinal));

        var (code, output) = Run("systemd-analyze", "verify", copy);
        Assert.True(code == 0, output);
        Assert.Equal(string.Empty, output.Trim());
    }

    [Fact]
    public void The_unit_notifies_restarts_on_failure_and_not_on_bad_configuration()
    {
        var lines = File.ReadAllLines(Unit).Select(l => l.Trim()).ToHashSet();
        Assert.Contains("Type=notify", lines);
        Assert.Contains("User=edgeseg", lines);
        Assert.Contains("Restart=on-failure", lines);
        Assert.Contains("RestartPreventExitStatus=78", lines);
        Assert.Contains("NoNewPrivileges=yes", lines);
    }

    [Fact]
    public void The_hardening_scores_ok_in_systemd_analyze_security()
    {
        var (code, output) = Run("systemd-analyze", "security", "--offline=true", "--threshold=30", Unit);
        Assert.True(code == 0, output);
        var line = output.Split('\n').Single(l => l.Contains("Overall exposure level", StringComparison.Ordinal));
        var score = double.Parse(line.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(score, 0, 3.0);
    }

    [Fact]
    public void The_example_configuration_is_valid()
    {
        var loaded = ConfigurationLoader.Load(Path.Combine(RepositoryRoot.Path, "systemd", "edgeseg.json"), new Dictionary<string, string?>
        {
            // The example's spool lives in systemd's StateDirectory, which only the service may write.
            ["EDGESEG_Mqtt__SpoolPath"] = Path.Combine(TestFiles.NewTempDirectory(), "spool.db"),
        });
        Assert.Equal("box-01", loaded.Options.DeviceId);
        Assert.Equal(BundledModel.DefaultPath, loaded.ModelPath);
    }
}
