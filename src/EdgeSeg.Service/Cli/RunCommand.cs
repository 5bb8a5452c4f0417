using System.CommandLine;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg run</c>: the service itself, as systemd starts it.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c")
        {
            Description = $"Configuration file (JSON); environment variables {ConfigurationLoader.EnvironmentPrefix}Section__Key override it",
            DefaultValueFactory = _ => ConfigurationLoader.DefaultPath,
        };
        var command = new Command("run", "Run the appliance: cameras → DeepLabV3 → class areas → MQTT, until stopped")
        {
            config,
        };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(config)!, token));
        return command;
    }

    public static async Task<int> RunAsync(string configPath, CancellationToken token)
    {
        if (AppStartup.LoadConfiguration(configPath, Console.Error) is not { } config)
        {
            return ExitCodes.Config;
        }

        using var segmenter = AppStartup.LoadModel(config, Console.Error);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        using var refinements = AppStartup.Cameras(config, segmenter, Console.Error, Console.Out);
        if (refinements is null)
        {
            return ExitCodes.Config;
        }

        using var host = ServiceHost.Build(config, segmenter, refinements, LogLevel.Information);
        await host.RunAsync(token).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
