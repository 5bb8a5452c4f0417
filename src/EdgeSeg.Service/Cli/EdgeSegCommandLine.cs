using System.CommandLine;

namespace EdgeSeg.Service.Cli;

/// <summary>The <c>edgeseg</c> command line: every verb, and the exit code of a line that does not parse.</summary>
internal static class EdgeSegCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("EdgeSeg: DeepLabV3 semantic segmentation of camera streams, per-class area statistics over MQTT");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(SnapshotCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(EngineCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        var dataset = DatasetCommand.Create();
        dataset.Subcommands.Add(DatasetVideoCommand.Create());
        root.Subcommands.Add(dataset);
        return root;
    }

    /// <summary>
    /// Runs <paramref name="args"/> against <paramref name="root"/>. A line that does not parse (an unknown
    /// option, a missing required one, a bad value) is a usage error: its problems go to
    /// <paramref name="error"/> and the exit code is EX_USAGE (64), like the usage errors the verbs find
    /// themselves, rather than System.CommandLine's 1, which scripts and systemd cannot tell from a crash.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync($"edgeseg: {problem.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("(edgeseg --help, or edgeseg COMMAND --help, lists what is accepted)").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parsed.InvokeAsync().ConfigureAwait(false);
    }
}
