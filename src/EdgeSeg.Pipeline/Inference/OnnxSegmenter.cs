using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Google.Protobuf;
using EdgeSeg.Pipeline.Frames;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>
/// A DeepLabV3-style ONNX model ready to run: one session, its input and output tensors allocated once
/// over pinned managed arrays, so that a frame goes in and a <see cref="Segmentation"/> (views of the
/// scores and of the frame as the model saw it) comes out without allocating. Not thread-safe: one
/// segmenter serves one inference loop.
/// </summary>
public sealed class OnnxSegmenter : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input;
    private readonly OrtValue _output;
    private readonly OrtIoBinding _binding;
    private readonly FramePreprocessor _preprocessor;
    private readonly float[]? _logits;
    private readonly long[]? _labels64;
    private readonly int[]? _labels32;
    private readonly byte[]? _labels8;
    private long _runs;

    private OnnxSegmenter(InferenceSession session, ModelDescription model, ExecutionProvider provider, IReadOnlyList<string> attempts)
    {
        _session = session;
        Model = model;
        Provider = provider;
        ProviderAttempts = attempts;
        _preprocessor = new FramePreprocessor(model);
        var inputShape = model.Layout == TensorLayout.NCHW
            ? new long[] { 1, 3, model.Height, model.Width }
            : [1, model.Height, model.Width, 3];
        _input = _preprocessor.CreateInputTensor(inputShape);

        var outputType = session.OutputMetadata[model.OutputName].ElementDataType;
        var count = model.OutputShape.Aggregate(1L, (a, b) => a * b);
        switch (outputType)
        {
            case TensorElementType.Float:
                _logits = GC.AllocateUninitializedArray<float>(checked((int)count), pinned: true);
                _output = OrtValue.CreateTensorValueFromMemory(_logits, model.OutputShape);
                break;
            case TensorElementType.Int64:
                _labels64 = GC.AllocateUninitializedArray<long>(checked((int)count), pinned: true);
                _output = OrtValue.CreateTensorValueFromMemory(_labels64, model.OutputShape);
                break;
            case TensorElementType.Int32:
                _labels32 = GC.AllocateUninitializedArray<int>(checked((int)count), pinned: true);
                _output = OrtValue.CreateTensorValueFromMemory(_labels32, model.OutputShape);
                break;
            default:
                _labels8 = GC.AllocateUninitializedArray<byte>(checked((int)count), pinned: true);
                _output = OrtValue.CreateTensorValueFromMemory(_labels8, model.OutputShape);
                break;
        }

        // Bound once: a run then marshals no tensor names and allocates nothing on the managed heap.
        _binding = session.CreateIoBinding();
        _binding.BindInput(model.InputName, _input);
        _binding.BindOutput(model.OutputName, _output);
    }

    public ModelDescription Model { get; }

    /// <summary>The provider that won the chain.</summary>
    public ExecutionProvider Provider { get; }

    /// <summary>One line per provider tried, saying why it was passed over, then which one won.</summary>
    public IReadOnlyList<string> ProviderAttempts { get; }

    /// <summary>
    /// Loads <paramref name="modelPath"/> and its manifest, trying the configured providers in order. A
    /// provider that fails to load the model or to complete one warm-up run is passed over; a model that
    /// is unreadable or of the wrong shape fails at once with a <see cref="ModelLoadException"/>.
    /// </summary>
    public static OnnxSegmenter Load(string modelPath, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fullPath = Path.GetFullPath(modelPath);
        var info = new FileInfo(fullPath);
        if (!info.Exists)
        {
            throw new ModelLoadException(fullPath, "does not exist");
        }

        if (info.Length == 0)
        {
            throw new ModelLoadException(fullPath, "is empty");
        }

        var manifest = ModelManifest.LoadBeside(fullPath);
        var attempts = new List<string>();
        foreach (var provider in options.Providers.Distinct())
        {
            InferenceSession? session = null;
            try
            {
                session = CreateSession(fullPath, provider, options);
            }
            catch (OnnxRuntimeException e) when (IsModelFault(e))
            {
                throw new ModelLoadException(fullPath, $"not a usable ONNX model (truncated or corrupt?): {FirstLine(e.Message)}", e);
            }
            catch (Exception e) when (provider != ExecutionProvider.CPU || e is not OnnxRuntimeException)
            {
                attempts.Add($"{provider}: unavailable ({e.GetType().Name}: {FirstLine(e.Message)})");
                continue;
            }

            OnnxSegmenter? segmenter = null;
            try
            {
                var model = ModelResolver.Resolve(fullPath, session, manifest);
                segmenter = new OnnxSegmenter(session, model, provider, attempts);
                segmenter.WarmUp();
                attempts.Add($"{provider}: selected");
                return segmenter;
            }
            catch (ModelLoadException)
            {
                DisposeAfterFailure(segmenter, session);
                throw;
            }
            catch (Exception e) when (provider != ExecutionProvider.CPU)
            {
                DisposeAfterFailure(segmenter, session);
                attempts.Add($"{provider}: failed its warm-up run ({e.GetType().Name}: {FirstLine(e.Message)})");
            }
            catch (OnnxRuntimeException e)
            {
                DisposeAfterFailure(segmenter, session);
                throw new ModelLoadException(fullPath, $"failed its first run on the CPU: {FirstLine(e.Message)}", e);
            }
        }

        throw new ModelLoadException(
            fullPath,
            "no execution provider could run it: " + string.Join("; ", attempts));
    }

    /// <summary>
    /// Segments <paramref name="frame"/>: resizes and normalises it into the input tensor and runs the
    /// model. The result views this segmenter's buffers and is valid until the next run.
    /// </summary>
    public Segmentation Infer(VideoFrame frame)
    {
        Preprocess(frame);
        return Run();
    }

    /// <summary>Infers and writes the labels at the output's resolution in one call.</summary>
    public void Segment(VideoFrame frame, LabelMap labels) => Infer(frame).Decode(labels);

    /// <summary>The first half of <see cref="Infer"/>, for benchmarks that time the phases apart.</summary>
    internal void Preprocess(VideoFrame frame) => _preprocessor.Fill(frame);

    /// <summary>The second half of <see cref="Infer"/>: runs the model on the input tensor as it is.</summary>
    internal Segmentation Run()
    {
        _session.RunWithBinding(_runOptions, _binding);
        _runs++;
        var scores = _logits is null
            ? default
            : new ScoreMap(_logits, Model.Labels.Count, Model.OutputHeight, Model.OutputWidth);
        return new Segmentation(this, _runs, scores, new BgrImage(_preprocessor.ResizedBgr, Model.Width, Model.Height));
    }

    /// <summary>Writes the label map of run <paramref name="run"/>, at the output's resolution.</summary>
    internal void Decode(long run, LabelMap labels)
    {
        if (run != _runs)
        {
            throw new InvalidOperationException($"a segmentation of run {run} was decoded after run {_runs}: its buffers hold a later frame");
        }

        ArgumentNullException.ThrowIfNull(labels);
        labels.EnsureSize(Model.OutputWidth, Model.OutputHeight);
        var classes = Model.Labels.Count;
        if (_logits is not null)
        {
            ArgMax.Compute(_logits, classes, labels.Labels);
        }
        else if (_labels64 is not null)
        {
            LabelConversion.Narrow(_labels64, classes, labels.Labels);
        }
        else if (_labels32 is not null)
        {
            LabelConversion.Narrow(_labels32, classes, labels.Labels);
        }
        else
        {
            LabelConversion.Narrow(_labels8!, classes, labels.Labels);
        }
    }

    /// <summary>A short hash of the model file, for cache keys and reports.</summary>
    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }

    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _preprocessor.Dispose();
    }

    private void WarmUp()
    {
        var sw = Stopwatch.StartNew();
        _ = Run();
        WarmUpTime = sw.Elapsed;
    }

    /// <summary>How long the first run took (engine builds and allocations included).</summary>
    public TimeSpan WarmUpTime { get; private set; }

    private static InferenceSession CreateSession(string path, ExecutionProvider provider, InferenceOptions options)
    {
        var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
        };
        try
        {
            // Spinning worker threads would steal the cores that capture and post-processing share with
            // inference on a small board; they sleep between runs instead.
            so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            switch (provider)
            {
                case ExecutionProvider.TensorRT:
                    AppendTensorRt(so, path, options);
                    break;
                case ExecutionProvider.CUDA:
                    so.AppendExecutionProvider_CUDA(options.DeviceId);
                    break;
                case ExecutionProvider.CPU:
                    if (CpuInt8Model(path) is { } converted)
                    {
                        return new InferenceSession(converted, so);
                    }

                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown execution provider");
            }

            return new InferenceSession(path, so);
        }
        finally
        {
            so.Dispose();
        }
    }

    /// <summary>
    /// On x86, a QDQ model rewritten to the form the CPU's integer kernels compute fast and exactly: the int8
    /// activations of the TensorRT form to uint8 and, without VNNI, int8 weights to uint8 (see
    /// <see cref="Quantization.ActivationLayout.PrepareForX86"/>); null when nothing changes,
    /// on other CPUs (ARM's kernels take int8 as it is), or when the file does not parse (ONNX Runtime then
    /// reports what is wrong with it).
    /// </summary>
    private static byte[]? CpuInt8Model(string path)
    {
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86))
        {
            return null;
        }

        Onnx.ModelProto model;
        try
        {
            // A float model never names the op: skip parsing its protobuf (tens of MB) at every start.
            var bytes = File.ReadAllBytes(path);
            if (bytes.AsSpan().IndexOf("QuantizeLinear"u8) < 0)
            {
                return null;
            }

            model = Onnx.ModelProto.Parser.ParseFrom(bytes);
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or IOException)
        {
            return null;
        }

        // Without VNNI, uint8 × int8 saturates (vpmaddubsw); uint8 weights take the exact uint8 × uint8 kernels.
        return model.Graph is not null && Quantization.ActivationLayout.PrepareForX86(model, CpuHasVnni.Value) ? model.ToByteArray() : null;
    }

    /// <summary>
    /// True when the CPU has AVX-VNNI or AVX-512 VNNI, whose uint8 × int8 dot products do not saturate
    /// (.NET names only the former; the latter is read from the kernel's CPU flags).
    /// </summary>
    internal static readonly Lazy<bool> CpuHasVnni = new(() =>
    {
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            return true;
        }

        try
        {
            return File.Exists("/proc/cpuinfo")
                && File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) is { } flags
                && flags.Split(' ', '\t').Contains("avx512_vnni", StringComparer.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    });

    private static void AppendTensorRt(SessionOptions so, string path, InferenceOptions options)
    {
        using var trt = new OrtTensorRTProviderOptions();
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = options.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["trt_fp16_enable"] = options.TensorRtFp16 ? "1" : "0",
            ["trt_int8_enable"] = options.TensorRtInt8 ? "1" : "0",
            ["trt_max_workspace_size"] = options.TensorRtWorkspaceBytes.ToString(CultureInfo.InvariantCulture),
            ["trt_builder_optimization_level"] = options.TensorRtOptimizationLevel.ToString(CultureInfo.InvariantCulture),
        };
        if (options.TensorRtDlaCore >= 0)
        {
            settings["trt_dla_enable"] = "1";
            settings["trt_dla_core"] = options.TensorRtDlaCore.ToString(CultureInfo.InvariantCulture);
        }

        if (options.EngineCacheDirectory is { } root)
        {
            // Engines are only valid for one model, ORT version and precision: key the folder by them.
            var key = $"{HashFile(path)}-ort{OrtEnv.Instance().GetVersionString()}-fp16{settings["trt_fp16_enable"]}-int8{settings["trt_int8_enable"]}-dla{options.TensorRtDlaCore}";
            var dir = Path.Combine(root, key);
            Directory.CreateDirectory(dir);
            settings["trt_engine_cache_enable"] = "1";
            settings["trt_engine_cache_path"] = dir;
            settings["trt_timing_cache_enable"] = "1";
            settings["trt_timing_cache_path"] = dir;
        }

        trt.UpdateOptions(settings);
        so.AppendExecutionProvider_Tensorrt(trt);
        so.AppendExecutionProvider_CUDA(options.DeviceId);
    }

    /// <summary>Errors that say the file is not a model, as opposed to a provider that cannot run.</summary>
    private static bool IsModelFault(OnnxRuntimeException e) =>
        e.Message.Contains("InvalidProtobuf", StringComparison.Ordinal)
        || e.Message.Contains("InvalidGraph", StringComparison.Ordinal)
        || e.Message.Contains("NoSuchFile", StringComparison.Ordinal)
        || e.Message.Contains("ModelLoaded", StringComparison.Ordinal)
        || e.Message.Contains("Protobuf parsing failed", StringComparison.Ordinal);

    private static string FirstLine(string text)
    {
        var nl = text.IndexOf('\n', StringComparison.Ordinal);
        return (nl < 0 ? text : text[..nl]).Trim();
    }

    private static void DisposeAfterFailure(OnnxSegmenter? segmenter, InferenceSession session)
    {
        if (segmenter is not null)
        {
            segmenter.Dispose();
        }
        else
        {
            session.Dispose();
        }
    }
}

/// <summary>
/// What one model run made: the class scores on the output grid and the frame as the model saw it (BGR
/// at the input size), both views of the segmenter's buffers, valid until its next run.
/// </summary>
public readonly ref struct Segmentation
{
    private readonly OnnxSegmenter _segmenter;
    private readonly long _run;

    internal Segmentation(OnnxSegmenter segmenter, long run, ScoreMap scores, BgrImage input)
    {
        _segmenter = segmenter;
        _run = run;
        Scores = scores;
        Input = input;
    }

    /// <summary>C×H×W logits on the output grid; empty for a model that outputs labels.</summary>
    public ScoreMap Scores { get; }

    /// <summary>The frame resized to the model's input, BGR: what a refiner aligns the labels to.</summary>
    public BgrImage Input { get; }

    /// <summary>Writes the labels (argmax of the scores, or the model's own labels) at the output's resolution.</summary>
    public void Decode(LabelMap labels) => _segmenter.Decode(_run, labels);
}
