namespace EdgeSeg.Pipeline.Tests.Refinement;

/// <summary>Small synthetic inputs: a frame of coloured regions with noise, and coarse logits.</summary>
internal static class CrfTestScenes
{
    /// <summary>BGR frame: four colour regions split by a diagonal and a vertical edge, plus noise.</summary>
    public static byte[] Regions(int width, int height, int seed, int noise = 6)
    {
        var random = new Random(seed);
        byte[][] colours = [[40, 60, 200], [200, 180, 30], [90, 200, 90], [180, 40, 160]];
        var image = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var region = (x > width / 2 ? 1 : 0) + (y * width > x * height ? 2 : 0);
                for (var c = 0; c < 3; c++)
                {
                    var v = colours[region][c] + random.Next(-noise, noise + 1);
                    image[(((y * width) + x) * 3) + c] = (byte)Math.Clamp(v, 0, 255);
                }
            }
        }

        return image;
    }

    /// <summary>Random logits in [−amplitude, amplitude], NCHW 1 × classes × h × w.</summary>
    public static float[] Logits(int classes, int h, int w, int seed, float amplitude = 3f)
    {
        var random = new Random(seed);
        var logits = new float[classes * h * w];
        for (var i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)((random.NextDouble() * 2) - 1) * amplitude;
        }

        return logits;
    }
}
