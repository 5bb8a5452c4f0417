using System.CommandLine;
using EdgeSeg.Service.Cli;

namespace EdgeSeg.Service.Tests.Cli;

public sealed class DatasetCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edgeseg-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static RootCommand Root()
    {
        var root = new RootCommand();
        root.Subcommands.Add(DatasetCommand.Create());
        return root;
    }

    private static int Run(params string[] args) => Root().Parse(args).Invoke();

    [Fact]
    public void Dataset_render_writes_numbered_image_and_label_pairs()
    {
        var code = Run("dataset", "render", "--count", "3", "--size", "64x32", "--seed", "5", "--out", _root, "--jobs", "1");
        Assert.Equal(ExitCodes.Ok, code);
        var images = Directory.GetFiles(Path.Combine(_root, "images")).Select(f => Path.GetFileName(f)).Order().ToArray();
        Assert.Equal(new[] { "000000.png", "000001.png", "000002.png" }, images);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(_root, "labels")).Length);
    }

    [Theory]
    [InlineData("64")]
    [InlineData("8x8")]
    [InlineData("wide")]
    public void A_bad_size_is_rejected_without_writing_anything(string size)
    {
        var code = Run("dataset", "render", "--count", "1", "--size", size, "--out", _root);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.False(Directory.Exists(_root));
    }

    [Fact]
    public void Count_and_out_are_required()
    {
        AssertMissing("--count", "dataset", "render", "--out", _root);
        AssertMissing("--out", "dataset", "render", "--count", "1");
        Assert.False(Directory.Exists(_root));
    }

    /// <summary>
    /// A missing option is a parse error, found before the action runs: the command line names the option
    /// and exits with <see cref="ExitCodes.Usage"/>, as the actions do for the usage errors they find.
    /// </summary>
    private static void AssertMissing(string option, params string[] args)
    {
        var error = new StringWriter();
        var code = EdgeSegCommandLine.InvokeAsync(EdgeSegCommandLine.Create(), args, error).GetAwaiter().GetResult();
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(option, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_option_or_verb_is_a_usage_error_that_names_it()
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await EdgeSegCommandLine.InvokeAsync(EdgeSegCommandLine.Create(), ["run", "--bogus"], error));
        Assert.Contains("--bogus", error.ToString(), StringComparison.Ordinal);
        error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await EdgeSegCommandLine.InvokeAsync(EdgeSegCommandLine.Create(), ["segment"], error));
        Assert.Contains("segment", error.ToString(), StringComparison.Ordinal);
    }
}
