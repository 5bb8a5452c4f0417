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
        AddSensorNoise(frame, grainKey);

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
