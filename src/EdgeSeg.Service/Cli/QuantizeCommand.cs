using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Quantization;
using EdgeSeg.Service.Configuration;
using Google.Protobuf;
using Onnx;
using Spectre.Console;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg quantize</c>: static INT8 QDQ quantization of a float model, calibrated on real frames.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Float ONNX model (default: the bundled float model)" };
        var calibration = new Option<string>("--calibration", "-c")
        {
            Description = "Calibration frames: a source URI (synthetic://street?seed=S&size=WxH, file://…) or a folder of images",
            Required = true,
        };
        var frames = new Option<int>("--frames", "-n") { Description = "Calibration frames", DefaultValueFactory = _ => 100 };
        var method = new Option<CalibrationMethod>("--method")
        {
            Description = "How each activation's range is chosen: minmax, percentile or entropy",
            DefaultValueFactory = _ => CalibrationMethod.Percentile,
        };
        var percentile = new Option<double>("--percentile") { Description = "Percentile for --method percentile", DefaultValueFactory = _ => 99.99 };
        var output = new Option<string>("--out", "-o") { Description = "Quantized model (default: MODEL.int8.onnx beside the model)" };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var command = new Command("quantize", "Quantize a float model to INT8 (QDQ, TensorRT- and ONNX Runtime-ready) with calibration on real frames")
        {
            model, calibration, frames, method, percentile, output, threads,
        };
        command.SetAction(parse => Run(
            parse.GetValue(model), parse.GetValue(calibration)!, parse.GetValue(frames), parse.GetValue(method),
            parse.GetValue(percentile), parse.GetValue(output), parse.GetValue(threads)));
        return command;
    }

    private static int Run(string? model, string calibration, int frames, CalibrationMethod method, double percentile, string? output, int threads)
    {
        if (frames < 1)
        {
            Console.Error.WriteLine($"edgeseg quantize: --frames must be at least 1, got {frames}");
            return ExitCodes.Usage;
        }

        if (percentile is <= 0 or > 100)
        {
            Console.Error.WriteLine($"edgeseg quantize: --percentile must be in (0, 100], got {percentile.ToString(CultureInfo.InvariantCulture)}");
            return ExitCodes.Usage;
        }

        var path = model is null ? BundledModel.FloatPath : EdgeSegOptionsValidator.ResolveModelPath(model, Directory.GetCurrentDirectory());
        var outPath = Path.GetFullPath(output ?? Path.ChangeExtension(path, null) + ".int8.onnx");
        if (string.Equals(Path.GetFullPath(path), outPath, StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"edgeseg quantize: --out would overwrite the float model {path}");
            return ExitCodes.Usage;
        }

        ModelProto proto;
        QuantizationPlan plan;
        try
        {
            proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            plan = QdqQuantizer.Plan(proto);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidProtocolBufferException)
        {
            Console.Error.WriteLine($"edgeseg quantize: {path}: not a readable ONNX model ({e.Message})");
            return ExitCodes.Config;
        }
        catch (QuantizationException e)
        {
            Console.Error.WriteLine($"edgeseg quantize: {path}: {e.Message}");
            return ExitCodes.Config;
        }

        using var segmenter = CliModel.Load("quantize", path, threads);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        IFrameSource? source;
        try
        {
            source = Directory.Exists(calibration) ? new ImageFolderSource(calibration) : CliModel.Open("quantize", calibration);
        }
        catch (FrameSourceException e)
        {
            Console.Error.WriteLine($"edgeseg quantize: --calibration: {e.Message}");
            return ExitCodes.Usage;
        }

        if (source is null)
        {
            return ExitCodes.Usage;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"model        {path}");
        Console.WriteLine($"calibration  {source.Description}, {frames} frames, method {method.ToString().ToLowerInvariant()}" +
                          (method == CalibrationMethod.Percentile ? $" {percentile.ToString(inv)}" : string.Empty));
        Console.WriteLine($"plan         {plan.Activations.Count} activations, {plan.Weights.Count} convolution weights (per channel), {plan.SharedScale.Count} shared-scale groups");

        CalibrationData statistics;
        var clock = Stopwatch.StartNew();
        using (source)
        {
            try
            {
                statistics = Calibrate(proto, segmenter.Model, plan, source, frames, threads);
            }
            catch (Exception e) when (e is QuantizationException or FrameSourceException)
            {
                Console.Error.WriteLine($"edgeseg quantize: {e.Message}");
                return e is QuantizationException ? ExitCodes.Usage : ExitCodes.Failure;
            }
        }

        var options = new QuantizationOptions { Method = method, Percentile = percentile };
        QuantizationResult result;
        try
        {
            result = QdqQuantizer.Quantize(proto, plan, statistics.Histograms, options, statistics.Shapes);
        }
        catch (QuantizationException e)
        {
            Console.Error.WriteLine($"edgeseg quantize: {e.Message}");
            return ExitCodes.Config;
        }

        Console.WriteLine(string.Format(inv, "calibrated   in {0:0.0} s", clock.Elapsed.TotalSeconds));
        Console.WriteLine($"quantized    {result.QuantizedConvolutions} of {proto.Graph.Node.Count(n => n.OpType == "Conv")} convolutions run on int8 inputs");
        foreach (var line in result.Rewrites)
        {
            Console.WriteLine($"cropped      {line}");
        }

        Console.WriteLine($"kept float   {result.KeptFloat.Count}:");
        foreach (var k in result.KeptFloat)
        {
            Console.WriteLine($"  {k.OpType} {k.Name}: {k.Reason}");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        var tmp = outPath + ".tmp";
        File.WriteAllBytes(tmp, result.Model.ToByteArray());
        File.Move(tmp, outPath, overwrite: true);
        WriteManifest(path, outPath, segmenter.Model, source.Description, statistics.Frames, options, result);
        Console.WriteLine($"wrote        {outPath} ({new FileInfo(outPath).Length / 1e6:0.0} MB) and {ModelManifest.PathFor(outPath)}");
        return Check(outPath, segmenter, calibration);
    }

    private static CalibrationData Calibrate(
        ModelProto proto, ModelDescription description, QuantizationPlan plan, IFrameSource source, int frames, int threads)
    {
        if (Console.IsOutputRedirected)
        {
            // Logs and CI: a line every 10 %, no terminal control codes.
            var step = Math.Max(1, frames / 10);
            var progress = new SynchronousProgress(p =>
            {
                if (p.Frames > 0 && (p.Frames % step == 0 || p.Frames == p.Total))
                {
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "calibrating  {0}/{1} frames, {2:0} s left", p.Frames, p.Total, p.Remaining?.TotalSeconds ?? 0));
                }
            });
            return Calibrator.Collect(proto, description, plan.Activations, source, frames, threads, progress);
        }

        CalibrationData? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("calibrating", maxValue: frames);
                var progress = new SynchronousProgress(p => task.Value = p.Frames);
                result = Calibrator.Collect(proto, description, plan.Activations, source, frames, threads, progress);
                task.Value = frames;
            });
        return result!;
    }

    private static void WriteManifest(
        string floatPath, string outPath, ModelDescription model, string calibration, int frames, QuantizationOptions options, QuantizationResult result)
    {
        var manifestPath = ModelManifest.PathFor(floatPath);
        var manifest = File.Exists(manifestPath) ? JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject() : new JsonObject();
        manifest["Name"] = model.Name + "_int8";
        var quantization = new JsonObject
        {
            ["Format"] = "QDQ, int8 symmetric (zero point 0); weights per output channel, activations per tensor; biases float",
            ["Method"] = options.Method.ToString().ToLowerInvariant(),
            ["Calibration"] = calibration,
            ["Frames"] = frames,
            ["FloatModel"] = Path.GetFileName(floatPath),
            ["FloatModelHash"] = OnnxSegmenter.HashFile(floatPath),
            ["QuantizedConvolutions"] = result.QuantizedConvolutions,
            ["Rewrites"] = new JsonArray(result.Rewrites.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
            ["KeptFloat"] = new JsonArray(result.KeptFloat.Select(k => (JsonNode)new JsonObject { ["Name"] = k.Name, ["OpType"] = k.OpType, ["Reason"] = k.Reason }).ToArray()),
        };
        if (options.Method == CalibrationMethod.Percentile)
        {
            quantization["Percentile"] = options.Percentile;
        }

        manifest["Quantization"] = quantization;
        var tmp = ModelManifest.PathFor(outPath) + ".tmp";
        File.WriteAllText(tmp, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(tmp, ModelManifest.PathFor(outPath), overwrite: true);
    }

    /// <summary>Loads the written model as the appliance would and compares its labels with the float model's on a few frames.</summary>
    private static int Check(string outPath, OnnxSegmenter floatModel, string calibration)
    {
        using var quantized = CliModel.Load("quantize", outPath);
        if (quantized is null)
        {
            return ExitCodes.Failure;
        }

        using var source = Directory.Exists(calibration) ? new ImageFolderSource(calibration) : CliModel.Open("quantize", calibration);
        if (source is null)
        {
            return ExitCodes.Failure;
        }

        var frame = new VideoFrame();
        var a = new LabelMap();
        var b = new LabelMap();
        long same = 0, total = 0;
        for (var i = 0; i < 8 && source.Read(frame); i++)
        {
            floatModel.Segment(frame, a);
            quantized.Segment(frame, b);
            var x = a.Labels;
            var y = b.Labels;
            for (var k = 0; k < x.Length; k++)
            {
                same += x[k] == y[k] ? 1 : 0;
            }

            total += x.Length;
        }

        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "check        ONNX Runtime loads and runs it; labels agree with the float model on {0:0.00} % of pixels ({1} calibration frames)", 100.0 * same / Math.Max(total, 1), total / Math.Max(a.Labels.Length, 1)));
        return ExitCodes.Ok;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and report late).</summary>
    private sealed class SynchronousProgress(Action<CalibrationProgress> report) : IProgress<CalibrationProgress>
    {
        public void Report(CalibrationProgress value) => report(value);
    }
}
