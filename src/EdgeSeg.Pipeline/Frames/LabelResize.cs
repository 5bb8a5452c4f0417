namespace EdgeSeg.Pipeline.Frames;

/// <summary>Maps label maps between resolutions (model output ↔ frame) by nearest neighbour.</summary>
public static class LabelResize
{
    /// <summary>
    /// Resizes <paramref name="source"/> into <paramref name="target"/> (whose size is kept), sampling the
    /// source pixel whose centre is nearest: source x = floor((x + 0.5) · sw / tw).
    /// </summary>
    public static void Nearest(LabelMap source, LabelMap target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        int sw = source.Width, sh = source.Height, tw = target.Width, th = target.Height;
        if (sw == tw && sh == th)
        {
            source.Labels.CopyTo(target.Labels);
            return;
        }

        Span<int> columns = tw <= 4096 ? stackalloc int[tw] : new int[tw];
        for (var x = 0; x < tw; x++)
        {
            columns[x] = Math.Min(sw - 1, (int)(((x + 0.5) * sw) / tw));
        }

        var src = source.Labels;
        var dst = target.Labels;
        for (var y = 0; y < th; y++)
        {
            var sy = Math.Min(sh - 1, (int)(((y + 0.5) * sh) / th));
            var srow = src.Slice(sy * sw, sw);
            var drow = dst.Slice(y * tw, tw);
            for (var x = 0; x < tw; x++)
            {
                drow[x] = srow[columns[x]];
            }
        }
    }
}
