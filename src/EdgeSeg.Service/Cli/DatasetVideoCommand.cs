using System.CommandLine;
using System.Globalization;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Synthetic;
using OpenCvSharp;

namespace EdgeSeg.Service.Cli;

/// <summary>
/// <c>edgeseg dataset video</c>: a synthetic street as a video file, for trying file:// cameras and for
/// benchmarks that should pay a real decoder's cost rather than the renderer's.
/// </summary>
internal static class DatasetVideoCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "Length of the video", DefaultValueFactory = _ => 10 };
        var size = new Option<string>("--size") { Description = "Frame size as WIDTHxHEIGHT", DefaultValueFactory = _ => "1024x512" };
        var seed = new Option<int>("--seed") { Description = "Scene seed", DefaultValueFactory = _ => 7 };
        var fps = new Option<double>("--fps") { Description = "Frame rate", DefaultValueFactory = _ => 15 };
        var output = new Option<string>("--out") { Description = "Video file (.mp4: MPEG-4 part 2; .avi: Motion JPEG)", Required = true };
        var command = new Command("video", "Write a synthetic street as a video file")
        {
            seconds, size, seed, fps, output,
        };
        command.SetAction(parse => Run(
            parse.GetValue(seconds), parse.GetValue(size)!, parse.GetValue(seed), parse.GetValue(fps), parse.GetValue(output)!));
        return command;
    }

    private static int Run(double seconds, string size, int seed, double fps, string output)
    {
        if (!SyntheticFrameSource.TryParseSize(size, out var width, out var height, out var error))
        {
            Console.Error.WriteLine($"edgeseg dataset video: --size: {error}");
            return ExitCodes.Usage;
        }

        if (!double.IsFinite(seconds) || seconds <= 0 || !double.IsFinite(fps) || fps <= 0 || fps > 240)
        {
            Console.Error.WriteLine("edgeseg dataset video: --seconds must be positive and --fps within 0..240");
            return ExitCodes.Usage;
        }

        var fourcc = Path.GetExtension(output).Equals(".avi", StringComparison.OrdinalIgnoreCase) ? FourCC.MJPG : VideoWriter.FourCC('m', 'p', '4', 'v');
        using var writer = new VideoWriter(output, fourcc, fps, new Size(width, height));
        if (!writer.IsOpened())
        {
            Console.Error.WriteLine($"edgeseg dataset video: cannot write '{output}' (use .mp4 or .avi)");
            return ExitCodes.Failure;
        }

        using var source = new SyntheticFrameSource(seed, width, height, fps);
        var frame = new VideoFrame();
        var frames = (int)Math.Ceiling(seconds * fps);
        for (var i = 0; i < frames; i++)
        {
            source.Read(frame);
            using var mat = Mat.FromPixelData(height, width, MatType.CV_8UC3, frame.Buffer);
            writer.Write(mat);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {Path.GetFullPath(output)}: {frames} frames, {width}x{height} at {fps} fps, seed {seed}"));
        return ExitCodes.Ok;
    }
}
