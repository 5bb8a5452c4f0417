using System.CommandLine;
using EdgeSeg.Service.Cli;

var root = new RootCommand("EdgeSeg: semantic segmentation of camera streams with per-class area statistics.");
root.Subcommands.Add(DatasetCommand.Create());
return root.Parse(args).Invoke();
