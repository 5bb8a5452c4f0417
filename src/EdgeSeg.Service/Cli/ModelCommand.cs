using System.CommandLine;
using System.Globalization;
using EdgeSeg.Pipeline.Inference;

namespace EdgeSeg.Service.Cli;

/// <summary><c>edgeseg model inspect [M]</c>: tensors, size, cost and the DeepLab structure of a model.</summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("model") { Description = "ONNX model (default: the bundled one)", Arity = ArgumentArity.ZeroOrOne };
        var inspect = new Command("inspect", "Inputs, outputs, parameters, GFLOPs and DeepLab structure (output stride, atrous rates, ASPP)")
        {
            path,
        };
        inspect.SetAction(parse => Inspect(parse.GetValue(path)));
        return new Command("model", "Model tools") { inspect };
    }

    private static int Inspect(string? model)
    {
        using var segmenter = CliModel.Load("model inspect", model);
        if (segmenter is null)
        {
            return ExitCodes.Config;
        }

        var r = ModelInspector.Inspect(segmenter);
        var m = r.Model;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"model        {m.Path}");
        Console.WriteLine(string.Format(inv, "file         {0:0.0} MB, hash {1}{2}", r.FileBytes / 1e6, OnnxSegmenter.HashFile(m.Path), r.Quantized ? ", quantized (QDQ)" : string.Empty));
        if (m.Architecture is not null)
        {
            Console.WriteLine($"architecture {m.Architecture}");
        }

        var inShape = m.Layout == TensorLayout.NCHW ? $"[1, 3, {m.Height}, {m.Width}]" : $"[1, {m.Height}, {m.Width}, 3]";
        Console.WriteLine($"input        '{m.InputName}' {m.ElementType} {inShape} {m.Layout} {m.ColorOrder}, scale 1/{m.Scale.ToString(inv)}, mean [{string.Join(", ", m.Mean.Select(v => v.ToString(inv)))}], std [{string.Join(", ", m.Std.Select(v => v.ToString(inv)))}]");
        Console.WriteLine($"output       '{m.OutputName}' {m.OutputKind} [{string.Join(", ", m.OutputShape)}]");
        Console.WriteLine($"classes      {m.Labels.Count} ({m.Labels.Name}): {string.Join(", ", m.Labels.ClassNames)}");
        Console.WriteLine(string.Format(inv, "parameters   {0:0.00} M", r.Parameters / 1e6));
        Console.WriteLine(string.Format(inv, "compute      {0:0.00} GMAC = {1:0.00} GFLOPs per {2}x{3} frame ({4} convolutions)", r.Macs / 1e9, r.GigaFlops, m.Width, m.Height, r.Convolutions.Count));
        Console.WriteLine();
        Console.WriteLine("DeepLab structure");
        Console.WriteLine(r.OutputStride is { } os
            ? $"  output stride    {os} (smallest feature map {m.Width / os}x{m.Height / os} for a {m.Width}x{m.Height} input)"
            : "  output stride    unknown (no convolutions)");
        Console.WriteLine(r.AtrousRates.Count > 0
            ? $"  atrous convs     {r.AtrousConvolutions}, dilation rates {string.Join(", ", r.AtrousRates)}"
            : "  atrous convs     none");
        if (r.Aspp is { } a)
        {
            var branches = new List<string>();
            if (a.HasOneByOneBranch)
            {
                branches.Add("1x1 conv");
            }

            branches.AddRange(a.Rates.Select((rate, i) => $"{(i < a.Kernels.Count ? a.Kernels[i] : "3x3")} rate {rate}"));
            if (a.HasImagePooling)
            {
                branches.Add("image pooling");
            }

            Console.WriteLine($"  ASPP             on a {a.InputChannels}-channel {a.InputWidth}x{a.InputHeight} map: {string.Join(" + ", branches)} ({a.BranchChannels} channels each)");
            Console.WriteLine(a.ProjectionChannels is { } p
                ? $"  projection       concat → 1x1 conv to {p} channels"
                : "  projection       not found");
        }
        else
        {
            Console.WriteLine("  ASPP             not found");
        }

        if (r.Decoder is { } d)
        {
            Console.WriteLine($"  decoder          DeepLabV3+ at stride {d.Stride}: {d.SkipInputChannels}-channel stride-{d.Stride} features → 1x1 conv to {d.SkipChannels} channels, " +
                              $"concat with the {d.EncoderChannels}-channel encoder output upsampled ×{r.OutputStride / d.Stride}");
            Console.WriteLine($"                   → {(d.SeparableConvs > 0 ? $"{d.SeparableConvs} depthwise-separable 3x3 convs" : "convs")} of {d.Channels} channels → classifier" +
                              (d.Residual
                                  ? d.JoinStride is > 1
                                      ? $", logits added to the encoder's at stride {d.JoinStride} (residual branch), the sum upsampled ×{d.JoinStride}"
                                      : ", logits added to the encoder's at input size (residual branch)"
                                  : string.Empty));
        }
        else
        {
            Console.WriteLine("  decoder          none (logits upsampled from the output stride)");
        }

        return ExitCodes.Ok;
    }
}
