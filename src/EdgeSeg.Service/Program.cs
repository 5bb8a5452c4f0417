using EdgeSeg.Service.Cli;
using EdgeSeg.Service.Hosting;

// Before anything else allocates natively on more threads (see MallocArenas for the measurement).
MallocArenas.Limit(2);
return await EdgeSegCommandLine.InvokeAsync(EdgeSegCommandLine.Create(), args, Console.Error).ConfigureAwait(false);
