using EdgeSeg.Pipeline.Frames;
using OpenCvSharp;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>Camera degradations, applied to the image after the labels are final.</summary>
public sealed partial class StreetSceneRenderer
{
    private unsafe void ApplyPostEffects(VideoFrame frame, long grainKey)
    {
        var s = _scene;
        var pix = frame.Buffer;
        var n = frame.Length;

        // Sensor noise: independent per channel, different every frame.
        var amp = (int)Math.Round(s.SensorNoise * 2.2);
        if (amp > 0)
        {
            var salt = (int)(SceneRandom.Mix((ulong)grainKey ^ 0xA5A5UL) & 0xFFFF);
            for (var i = 0; i < n; i++)
            {
                var v = pix[i] + ((_canvas.NoiseAt((i * 13) + salt) * amp) >> 7);
                pix[i] = (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }

        if (s.BlurSigma <= 0 && s.JpegQuality <= 0)
        {
            return;
        }

        fixed (byte* p = pix)
        {
            using var mat = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, (IntPtr)p);
            if (s.BlurSigma > 0)
            {
                Cv2.GaussianBlur(mat, mat, new Size(0, 0), s.BlurSigma * Math.Max(1.0, Width / 1024.0));
            }

            if (s.JpegQuality > 0)
            {
                Cv2.ImEncode(".jpg", mat, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, s.JpegQuality));
                using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
                decoded.CopyTo(mat);
            }
        }
    }
}
