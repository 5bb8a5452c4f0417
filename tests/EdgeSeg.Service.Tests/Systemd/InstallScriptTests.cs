using System.Diagnostics;
using EdgeSeg.Service.Tests.Infrastructure;

namespace EdgeSeg.Service.Tests.Systemd;

/// <summary>install.sh and uninstall.sh against a staging root: exactly the documented files, and an upgrade keeps the configuration.</summary>
public sealed class InstallScriptTests
{
    private static async Task<(int Code, string Output)> Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "systemd", script), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output + await error);
    }

    private static List<string> Files(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Install_stages_exactly_the_documented_files_an_upgrade_keeps_the_configuration_and_uninstall_removes_them()
    {
        var root = TestFiles.NewTempDirectory();
        var (code, output) = await Run("install.sh", "--root", root);
        Assert.True(code == 0, output);

        var files = Files(root);
        Assert.All(files, f => Assert.True(
            f.StartsWith("opt/edgeseg/", StringComparison.Ordinal) || f is "etc/edgeseg/edgeseg.json" or "etc/systemd/system/edgeseg.service",
            $"undocumented file {f}"));
        Assert.Contains("opt/edgeseg/edgeseg", files);
        Assert.Contains("opt/edgeseg/models/deeplabv3_mnv3_street_512x256.int8.onnx", files);
        Assert.Contains("opt/edgeseg/models/deeplabv3_mnv3_street_512x256.onnx", files);
        Assert.Contains("etc/edgeseg/edgeseg.json", files);
        Assert.Contains("etc/systemd/system/edgeseg.service", files);

        // An upgrade: the operator's configuration stays; a file an earlier version left in the app folder goes.
        var config = Path.Combine(root, "etc", "edgeseg", "edgeseg.json");
        File.WriteAllText(config, "{ \"DeviceId\": \"operator-edited\" }");
        File.WriteAllText(Path.Combine(root, "opt", "edgeseg", "left-by-an-old-version.dll"), "x");
        (code, output) = await Run("install.sh", "--root", root);
        Assert.True(code == 0, output);
        Assert.Equal("{ \"DeviceId\": \"operator-edited\" }", File.ReadAllText(config));
        Assert.DoesNotContain("opt/edgeseg/left-by-an-old-version.dll", Files(root));

        (code, output) = await Run("uninstall.sh", "--root", root);
        Assert.True(code == 0, output);
        Assert.Equal(["etc/edgeseg/edgeseg.json"], Files(root));            // the configuration is kept…

        (code, output) = await Run("uninstall.sh", "--root", root, "--purge");
        Assert.True(code == 0, output);
        Assert.Empty(Files(root));                                           // …until --purge
    }

    [Fact]
    public async Task An_unknown_argument_is_a_usage_error()
    {
        var (code, output) = await Run("install.sh", "--rooot", TestFiles.NewTempDirectory());
        Assert.Equal(64, code);
        Assert.Contains("unknown argument '--rooot'", output, StringComparison.Ordinal);
    }
}
