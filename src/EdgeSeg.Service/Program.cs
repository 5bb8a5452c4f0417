using System.CommandLine;
using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Hosting;

// Before anything else allocates natively on more threads (see MallocArenas for the measurement).
MallocArenas.Limit(2);

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
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
