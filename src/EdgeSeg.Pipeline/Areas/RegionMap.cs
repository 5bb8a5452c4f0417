namespace EdgeSeg.Pipeline.Areas;

/// <summary>
/// Zones rasterised once for one label-map size. Overlapping zones are handled by giving every distinct
/// combination of zones a region id: each pixel holds the id of the set of zones its centre is in, so a
/// single pass over the labels (histogram by region and label) counts every zone at once, however many
/// there are and however they overlap.
/// </summary>
public sealed class RegionMap
{
    /// <summary>Zones per camera (a region's zone set is a 32-bit mask).</summary>
    public const int MaxZones = 32;

    private RegionMap(int width, int height, ushort[] regions, uint[] masks, long[] zonePixels)
    {
        Width = width;
        Height = height;
        Regions = regions;
        Masks = masks;
        ZonePixels = zonePixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Region id of each pixel (row-major).</summary>
    public ushort[] Regions { get; }

    /// <summary>The zone set (bit z = zone z) of each region id; region 0 is the pixels in no zone.</summary>
    public uint[] Masks { get; }

    /// <summary>Pixels of each zone.</summary>
    public long[] ZonePixels { get; }

    public static RegionMap Build(IReadOnlyList<Zone> zones, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(zones);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (zones.Count > MaxZones)
        {
            throw new ArgumentException($"at most {MaxZones} zones, got {zones.Count}", nameof(zones));
        }

        var ids = new Dictionary<uint, ushort> { [0] = 0 };
        var masks = new List<uint> { 0 };
        var regions = new ushort[width * height];
        var zonePixels = new long[zones.Count];
        for (var y = 0; y < height; y++)
        {
            var ry = (y + 0.5) / height;
            for (var x = 0; x < width; x++)
            {
                var rx = (x + 0.5) / width;
                uint mask = 0;
                for (var z = 0; z < zones.Count; z++)
                {
                    if (zones[z].Contains(rx, ry))
                    {
                        mask |= 1u << z;
                        zonePixels[z]++;
                    }
                }

                if (!ids.TryGetValue(mask, out var id))
                {
                    id = checked((ushort)masks.Count);
                    ids[mask] = id;
                    masks.Add(mask);
                }

                regions[(y * width) + x] = id;
            }
        }

        return new RegionMap(width, height, regions, [.. masks], zonePixels);
    }
}
