using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Service.Configuration;
using EdgeSeg.Service.Http;
using EdgeSeg.Service.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeSeg.Service.Hosting;

/// <summary>Composes the generic host of the appliance from validated configuration and a loaded model.</summary>
internal static class ServiceHost
{
    public static IHost Build(LoadedConfiguration config, OnnxSegmenter segmenter, CameraStages refinements, LogLevel minimumLevel)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.Logging.SetMinimumLevel(minimumLevel);
        builder.Logging.AddConfiguration(config.Raw.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        // Type=notify: READY=1 once every hosted service has started; stop on SIGTERM; journald-friendly logs.
        builder.Services.AddSystemd();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        // The options were bound and validated by ConfigurationLoader through the same registration
        // (OptionsRegistration) before the model was loaded; the host gets that instance, and each part
        // only the section it reads.
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(Options.Create(config.Options));
        builder.Services.AddSingleton(Options.Create(config.Options.Mqtt));
        builder.Services.AddSingleton(Options.Create(config.Options.Http));
        builder.Services.AddSingleton(ApplianceIdentity.From(config.Options));
        builder.Services.AddSingleton(segmenter);
        builder.Services.AddSingleton(refinements);
        builder.Services.AddSingleton<MqttStatsPublisher>();
        builder.Services.AddSingleton<PipelineHeartbeat>();
        builder.Services.AddSingleton<LiveCameras>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<ServiceMetrics>();
        builder.Services.AddSingleton<HttpEndpoint>();
        if (SystemdHelpers.IsSystemdService())
        {
            builder.Services.AddHostedService<SystemdWatchdog>();
        }

        // Hosted services stop in reverse order: inference first, then the publisher says "offline", and the
        // HTTP endpoint (off unless configured) answers until the very end.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HttpEndpoint>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MqttStatsPublisher>());
        builder.Services.AddHostedService<SegmentationService>();
        return builder.Build();
    }
}
