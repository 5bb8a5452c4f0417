using System.Diagnostics;
using EdgeSeg.Pipeline.Capture;
using EdgeSeg.Pipeline.Frames;
using EdgeSeg.Pipeline.Inference;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EdgeSeg.Pipeline.Quantization;

/// <summary>Where calibration stands, for a progress display.</summary>
public readonly record struct CalibrationProgress(int Frames, int Total, TimeSpan Elapsed)
{
    /// <summary>Time left at the pace so far, or null before the first frame.</summary>
    public TimeSpan? Remaining => Frames == 0 ? null : Elapsed / Frames * (Total - Frames);
}

/// <summary>Activation histograms from calibration, and how many frames made them.</summary>
/// <param name="Histograms">One per calibrated tensor.</param>
/// <param name="Frames">Frames calibrated on.</param>
/// <param name="Shapes">Each calibrated tensor's shape, as the model computed it.</param>
public sealed record CalibrationData(IReadOnlyDictionary<string, ActivationHistogram> Histograms, int Frames, IReadOnlyDictionary<string, long[]> Shapes);

/// <summary>
/// Runs the float model on real frames, preprocessed exactly as the appliance preprocesses them
/// (<see cref="FramePreprocessor"/>: resize, colour order, scale, mean/std), with every activation the
/// plan quantizes exposed as an extra output, and histograms their magnitudes.
/// </summary>
public static class Calibrator
{
    public static CalibrationData Collect(
        ModelProto model,
        ModelDescription description,
        IReadOnlyList<string> tensors,
        IFrameSource source,
        int frames,
        int threads = 0,
        IProgress<CalibrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);

        var probe = model.Clone();
        var graph = probe.Graph;
        var declared = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var inputName = description.InputName;
        var outputs = tensors.Where(t => t != inputName).ToList();
        foreach (var name in outputs.Where(n => !declared.Contains(n)))
        {
            graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }

        var histograms = tensors.ToDictionary(t => t, _ => new ActivationHistogram(), StringComparer.Ordinal);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);

        // No graph optimisation: the histograms are of the float graph's own tensors, not of fused ones.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = threads };
        using var session = new InferenceSession(probe.ToByteArray(), options);
        using var preprocessor = new FramePreprocessor(description);
        var shape = description.Layout == TensorLayout.NCHW
            ? new long[] { 1, 3, description.Height, description.Width }
            : [1, description.Height, description.Width, 3];
        using var input = preprocessor.CreateInputTensor(shape);
        shapes[inputName] = shape;
        using var runOptions = new RunOptions();
        var frame = new VideoFrame();
        var clock = Stopwatch.StartNew();
        var done = 0;
        progress?.Report(new CalibrationProgress(0, frames, TimeSpan.Zero));
        while (done < frames && source.Read(frame))
        {
            cancellationToken.ThrowIfCancellationRequested();
            preprocessor.Fill(frame);
            if (histograms.TryGetValue(inputName, out var inputHistogram))
            {
                inputHistogram.Add(input.GetTensorDataAsSpan<float>());
            }

            using (var results = session.Run(runOptions, [inputName], [input], outputs))
            {
                for (var i = 0; i < outputs.Count; i++)
                {
                    histograms[outputs[i]].Add(results[i].GetTensorDataAsSpan<float>());
                    if (done == 0)
                    {
                        shapes[outputs[i]] = results[i].GetTensorTypeAndShape().Shape;
                    }
                }
            }

            done++;
            progress?.Report(new CalibrationProgress(done, frames, clock.Elapsed));
        }

        if (done == 0)
        {
            throw new QuantizationException($"calibration source {source.Description} yielded no frames");
        }

        return new CalibrationData(histograms, done, shapes);
    }
}
