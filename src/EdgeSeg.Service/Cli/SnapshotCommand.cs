using System.CommandLine;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Rendering;
using OpenCvSharp;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg snapshot</c>: one frame with its colourised mask and a legend, as a PNG.</summary>
internal static class SnapshotCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source") { Description = "Frame source URI", DefaultValueFactory = _ => DemoCommand.DefaultSource };
        var output = new Option<string>("--out", "-o") { Description = "PNG to write", DefaultValueFactory = _ => "snapshot.png" };
        var model = new Option<string>("--model", "-m") { Description = "ONNX model (default: the bundled one)" };
        var skip = new Option<int>("--skip") { Description = "Frames to skip before the one drawn", DefaultValueFactory = _ => 0 };
        var zones = new Option<string?>("--zones") { Description = "A configuration file: draw the zones of its first camera" };
        var command = new Command("snapshot", "Write a frame with its segmentation blended over it and a legend of the classes present")
        {
            source, output, model, skip, zones,
        };
        command.SetAction(parse => Run(parse.GetValue(source)!, parse.GetValue(output)!, parse.GetValue(model), parse.GetValue(skip), parse.GetValue(zones)));
        return command;
    }

    private static int Run(string uri, string output, string? model, int skip, string? zonesConfig)
    {
        IReadOnlyList<Pipeline.Areas.Zone> zones = [];
        if (zonesConfig is not null)
        {
            try
            {
                var config = Configuration.ConfigurationLoader.Load(zonesConfig);
                zones = Configuration.AreaConfiguration.Zones(config.Options.Cameras[0]);
            }
            catch (Configuration.ConfigurationException e)
            {
                AppStartup.ReportConfigurationErrors(e, Console.Error);
                return ExitCodes.Config;
            }
        }

        using var segmenter = CliModel.Load("snapshot", model);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        using var source = CliModel.Open("snapshot", uri);
        if (source is null)
        {
            return ExitCodes.Usage;
        }

        var frame = new VideoFrame();
        for (var i = 0; i <= Math.Max(0, skip); i++)
        {
            if (!source.Read(frame))
            {
                Console.Error.WriteLine($"edgeseg snapshot: {source.Description} ended after {i} frames");
                return ExitCodes.Failure;
            }
        }

        var labels = new LabelMap();
        segmenter.Segment(frame, labels);
        using var image = OverlayRenderer.Render(frame, labels, segmenter.Model.Labels);
        OverlayRenderer.DrawZones(image, zones);
        if (!Cv2.ImWrite(output, image))
        {
            Console.Error.WriteLine($"edgeseg snapshot: could not write '{output}'");
            return ExitCodes.Failure;
        }

        Console.WriteLine($"wrote {Path.GetFullPath(output)} ({frame.Width}x{frame.Height}, model {segmenter.Model.Name})");
        return ExitCodes.Ok;
    }
}
