using EdgeSeg.Pipeline.Frames;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Inference;

/// <summary>
/// Turns a BGR frame of any size into the model's input tensor: resize (OpenCV, into a preallocated
/// buffer), then colour order, scale and mean/std applied through per-channel lookup tables while the
/// pixels are scattered into the tensor's layout. Nothing is allocated per frame once warm.
/// </summary>
internal sealed class FramePreprocessor : IDisposable
{
    private readonly ModelDescription _model;
    private readonly byte[] _resized;
    private readonly MatViewCache _views = new();
    private readonly float[][] _lut = new float[3][];
    private readonly byte[][] _identity = new byte[3][];
    private readonly int[] _sourceChannel = new int[3];
    private float[]? _floatInput;
    private byte[]? _byteInput;

    public FramePreprocessor(ModelDescription model)
    {
        _model = model;
        _resized = GC.AllocateUninitializedArray<byte>(model.Width * model.Height * 3, pinned: true);
        for (var c = 0; c < 3; c++)
        {
            // Tensor channel c reads BGR byte 2 - c for RGB models (R is byte 2), byte c for BGR models.
            _sourceChannel[c] = model.ColorOrder == ColorOrder.RGB ? 2 - c : c;
            _lut[c] = new float[256];
            _identity[c] = new byte[256];
            for (var v = 0; v < 256; v++)
            {
                _lut[c][v] = (v / model.Scale - model.Mean[c]) / model.Std[c];
                _identity[c][v] = (byte)v;
            }
        }
    }

    /// <summary>Allocates the input tensor over pinned managed memory that <see cref="Fill"/> writes.</summary>
    public OrtValue CreateInputTensor(long[] shape)
    {
        var count = _model.Width * _model.Height * 3;
        if (_model.ElementType == InputElementType.Float32)
        {
            _floatInput = GC.AllocateArray<float>(count, pinned: true);
            return OrtValue.CreateTensorValueFromMemory(_floatInput, shape);
        }

        _byteInput = GC.AllocateArray<byte>(count, pinned: true);
        return OrtValue.CreateTensorValueFromMemory(_byteInput, shape);
    }

    /// <summary>Resized BGR pixels of the last frame at model size (for overlays and the CRF).</summary>
    public ReadOnlySpan<byte> ResizedBgr => _resized;

    public void Fill(VideoFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Width <= 0 || frame.Height <= 0)
        {
            throw new ArgumentException("frame is empty", nameof(frame));
        }

        int w = _model.Width, h = _model.Height;
        if (frame.Width == w && frame.Height == h)
        {
            frame.Pixels.CopyTo(_resized);
        }
        else
        {
            var src = _views.Get(frame.Buffer, frame.Height, frame.Width, MatType.CV_8UC3);
            var dst = _views.Get(_resized, h, w, MatType.CV_8UC3);
            // Area averaging when shrinking a lot avoids aliasing of thin structures (poles, lane marks).
            var shrink = frame.Width >= 2 * w || frame.Height >= 2 * h;
            Cv2.Resize(src, dst, new Size(w, h), 0, 0, shrink ? InterpolationFlags.Area : InterpolationFlags.Linear);
        }

        if (_floatInput is not null)
        {
            Scatter(_floatInput, _lut);
        }
        else
        {
            Scatter(_byteInput ?? throw new InvalidOperationException("input tensor not created"), _identity);
        }
    }

    public void Dispose() => _views.Dispose();

    /// <summary>
    /// Scatters the resized BGR pixels into the tensor through per-channel tables. NCHW: plane c starts at
    /// c·n and pixels step by 1; NHWC: channel c sits at offset c and pixels step by 3.
    /// </summary>
    private unsafe void Scatter<T>(T[] input, T[][] lut)
        where T : unmanaged
    {
        var n = _model.Width * _model.Height;
        var planar = _model.Layout == TensorLayout.NCHW;
        var planeOffset = planar ? n : 1;
        var pixelStep = planar ? 1 : 3;
        int s0 = _sourceChannel[0], s1 = _sourceChannel[1], s2 = _sourceChannel[2];
        fixed (byte* src = _resized)
        fixed (T* dst = input)
        fixed (T* l0 = lut[0], l1 = lut[1], l2 = lut[2])
        {
            T* d0 = dst, d1 = dst + planeOffset, d2 = dst + (2 * planeOffset);
            var p = src;
            for (var i = 0; i < n; i++, p += 3)
            {
                var o = i * pixelStep;
                d0[o] = l0[p[s0]];
                d1[o] = l1[p[s1]];
                d2[o] = l2[p[s2]];
            }
        }
    }
}
