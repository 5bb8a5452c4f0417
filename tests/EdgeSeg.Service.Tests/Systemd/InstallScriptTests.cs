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

    /// <summary>ELF machine of a file: 62 x86-64, 183 AArch64 (bytes 18..19 of the header).</summary>
    private static int ElfMachine(string path)
    {
        var header = new byte[20];
        using (var f = File.OpenRead(path))
        {
            f.ReadExactly(header);
        }

        Assert.True(header[0] == 0x7F && header[1] == (byte)'E' && header[2] == (byte)'L' && header[3] == (byte)'F', $"{path} is not an ELF file");
        return header[18] | (header[19] << 8);
    }

    [Theory]
    [InlineData("linux-x64", false)]
    [InlineData("linux-x64", true)]
    [InlineData("linux-arm64", false)]
    [InlineData("linux-arm64", true)]
    public async Task Framework_dependent_and_self_contained_publishes_for_x64_and_arm64_stage_the_documented_files(string rid, bool selfContained)
    {
        var root = TestFiles.NewTempDirectory();
        string[] args = selfContained ? ["--root", root, "--rid", rid, "--self-contained"] : ["--root", root, "--rid", rid];
        var (code, output) = await Run("install.sh", args);
        Assert.True(code == 0, output);

        var files = Files(root);
        Assert.All(files, f => Assert.True(
            f.StartsWith("opt/edgeseg/", StringComparison.Ordinal) || f is "etc/edgeseg/edgeseg.json" or "etc/systemd/system/edgeseg.service",
            $"undocumented file {f}"));
        var app = Path.Combine(root, "opt", "edgeseg");
        var machine = rid == "linux-x64" ? 62 : 183;
        Assert.Equal(machine, ElfMachine(Path.Combine(app, "edgeseg")));
        Assert.Equal(machine, ElfMachine(Path.Combine(app, "libonnxruntime.so")));
        Assert.Contains("opt/edgeseg/edgeseg.dll", files);
        Assert.Contains("opt/edgeseg/models/deeplabv3_mnv3_street_512x256.int8.onnx", files);

        // The runtime travels only in a self-contained publish; OpenCV's native library is only published
        // for x64 (an arm64 board builds its own, README "Jetson").
        Assert.Equal(selfContained, File.Exists(Path.Combine(app, "libcoreclr.so")));
        Assert.Equal(selfContained, File.Exists(Path.Combine(app, "Microsoft.AspNetCore.dll")));
        Assert.Equal(rid == "linux-x64", File.Exists(Path.Combine(app, "libOpenCvSharpExtern.so")));
        if (selfContained)
        {
            Assert.Equal(machine, ElfMachine(Path.Combine(app, "libcoreclr.so")));
        }

        if (selfContained && rid == "linux-x64")
        {
            // It runs with no .NET anywhere it could look: no dotnet on PATH, no DOTNET_ROOT.
            var start = new ProcessStartInfo(Path.Combine(app, "edgeseg"), ["model", "inspect"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = app,
            };
            start.Environment["PATH"] = "/usr/sbin:/sbin";
            start.Environment.Remove("DOTNET_ROOT");
            start.Environment["DOTNET_ROOT"] = "/nonexistent";
            using var p = Process.Start(start)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            Assert.True(p.ExitCode == 0, await stdout + await stderr);
            Assert.Contains("ASPP", await stdout, StringComparison.Ordinal);
        }
    }
}
