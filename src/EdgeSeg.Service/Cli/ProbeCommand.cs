using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg probe URI</c>: what a camera URI delivers — backend, size, rate, codec — or exactly why not.</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("source") { Description = "Source URI, as in Cameras[i].Source (rtsp://…, http://…, file://…, v4l2://…, synthetic://…)" };
        var frames = new Option<int>("--frames", "-n") { Description = "Frames to read", DefaultValueFactory = _ => 30 };
        var command = new Command("probe", "Open a source, read a few frames and print what it delivers (or why it cannot)") { uri, frames };
        command.SetAction(parse => Run(parse.GetValue(uri)!, parse.GetValue(frames)));
        return command;
    }

    private static int Run(string uri, int frames)
    {
        if (frames < 1)
        {
            Console.Error.WriteLine($"edgeseg probe: --frames must be at least 1, got {frames}");
            return ExitCodes.Usage;
        }

        if (FrameSourceFactory.Validate(uri, Directory.GetCurrentDirectory()) is { } problem)
        {
            Console.Error.WriteLine($"edgeseg probe: {problem}");
            return ExitCodes.Usage;
        }

        var inv = CultureInfo.InvariantCulture;
        var clock = Stopwatch.StartNew();
        IFrameSource source;
        try
        {
            source = FrameSourceFactory.Open(uri, Directory.GetCurrentDirectory());
        }
        catch (FrameSourceException e)
        {
            Console.Error.WriteLine($"edgeseg probe: cannot open: {e.Message}");
            return ExitCodes.Failure;
        }

        using (source)
        {
            var opened = clock.Elapsed;
            Console.WriteLine($"source    {source.Description}");
            Console.WriteLine($"backend   {Backend(source)}");
            var announced = source is FfmpegFrameSource f
                ? string.Create(inv, $"{f.Width}x{f.Height}, {(f.NominalFps is { } r ? $"{r:0.##} fps" : "no frame rate")}, codec {f.Codec ?? "unknown"}, {(f.IsLive ? "live" : "finite")}")
                : source.NominalFps is { } fps ? string.Create(inv, $"{fps:0.##} fps") : "no frame rate";
            Console.WriteLine($"announced {announced}");
            Console.WriteLine(string.Create(inv, $"opened in {opened.TotalSeconds:0.00} s"));

            var frame = new VideoFrame();
            var read = 0;
            TimeSpan? first = null;
            var start = clock.Elapsed;
            try
            {
                while (read < frames && source.Read(frame))
                {
                    first ??= clock.Elapsed - start;
                    read++;
                }
            }
            catch (FrameSourceException e)
            {
                Console.Error.WriteLine($"edgeseg probe: opened, then failed after {read} frames: {e.Message}");
                return ExitCodes.Failure;
            }

            if (read == 0)
            {
                Console.Error.WriteLine("edgeseg probe: opened, but the source ended before its first frame");
                return ExitCodes.Failure;
            }

            var seconds = (clock.Elapsed - start - first!.Value).TotalSeconds;
            var rate = read > 1 && seconds > 0 ? string.Create(inv, $"{(read - 1) / seconds:0.0} fps") : "one frame";
            Console.WriteLine(string.Create(inv, $"delivered {read} frames of {frame.Width}x{frame.Height}: first after {first.Value.TotalSeconds:0.00} s, then {rate}"));
            return ExitCodes.Ok;
        }
    }

    private static string Backend(IFrameSource source) => source switch
    {
        FfmpegFrameSource { Tool: "ffmpeg" } f => $"ffmpeg child process (ffprobe {f.ToolVersion}), raw BGR over a pipe",
        FfmpegFrameSource f => $"{f.Tool} child process, raw BGR over a pipe",
        OpenCvFrameSource => $"OpenCV VideoCapture ({OpenCvSharp.Cv2.GetVersionString()})",
        Pipeline.Synthetic.SyntheticFrameSource => "synthetic street renderer (exact labels)",
        _ => source.GetType().Name,
    };
}
