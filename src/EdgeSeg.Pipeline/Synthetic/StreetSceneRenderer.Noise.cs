using EdgeSeg.Pipeline.Frames;

namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>
/// The sensor-noise step of the camera degradations, on its own so that the renderer built without
/// OpenCV (tools/EdgeSeg.Render) compiles this very code.
/// </summary>
public sealed partial class StreetSceneRenderer
{
    /// <summary>Sensor noise: independent per channel, different every frame.</summary>
    private void AddSensorNoise(VideoFrame frame, long grainKey)
    {
        var amp = (int)Math.Round(_scene.SensorNoise * 2.2);
        if (amp <= 0)
        {
            return;
        }

        var pix = frame.Buffer;
        var n = frame.Length;
        var salt = (int)(SceneRandom.Mix((ulong)grainKey ^ 0xA5A5UL) & 0xFFFF);
        for (var i = 0; i < n; i++)
        {
            var v = pix[i] + ((_canvas.NoiseAt((i * 13) + salt) * amp) >> 7);
            pix[i] = (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}
