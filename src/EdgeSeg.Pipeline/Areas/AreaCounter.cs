using EdgeSeg.Pipeline.Statistics;

namespace EdgeSeg.Pipeline.Areas;

/// <summary>
/// Measures one label map into the flat vector of an <see cref="AreaLayout"/>: class and group shares of
/// the whole frame and of every zone, and square metres on the ground. The zone rasters and pixel areas
/// are built on the first frame of each size and kept; after that a frame costs one histogram pass (plus
/// one weighted pass with a ground plane) and allocates nothing. Used on the inference thread only.
/// </summary>
public sealed class AreaCounter
{
    // Four interleaved histograms, as in ClassAreaCounter: consecutive pixels of a large uniform region
    // hit the same bin, and one histogram would stall on every increment.
    private const int Copies = 4;
    private const int AreaBins = 256;

    private readonly AreaLayout _layout;
    private readonly long[] _classCounts;

    // Labels are folded to _bins bins (every id from the class count up, ignore included, into the last) so
    // that the histograms of all regions stay small enough for the first-level cache. Measured with the
    // zones benchmark, 8 zones: 1.64x the whole-frame count with 256 bins and a region id read per pixel,
    // 1.47x with 32 bins walked in runs through a lookup table, 1.37x folding with Math.Min instead.
    private readonly int _bins;
    // Zones are spatially coherent: each row is a few runs of one region, so the hot loop walks runs of
    // labels with a fixed histogram offset instead of reading a region id per pixel.
    private int[] _runStarts = [];
    private int[] _runOffsets = [];
    private RegionMap? _map;
    private float[]? _areas;
    private int[] _histogram = [];
    private double[] _areaSums = [];
    private long[] _regionCounts = [];

    public AreaCounter(AreaLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
        _classCounts = new long[layout.Classes];
        _bins = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)layout.Classes + 1);
    }

    public AreaLayout Layout => _layout;

    /// <summary>Share of the frame's pixels that have no ground area (above the horizon or too far), at the last size measured.</summary>
    public double GroundExcludedShare { get; private set; }

    /// <summary>Each zone's share of the frame, at the last size measured (empty before the first frame).</summary>
    public IReadOnlyList<double> ZoneFrameShares { get; private set; } = [];

    /// <summary>Builds what a <paramref name="width"/>×<paramref name="height"/> label map needs (also done by the first <see cref="Measure"/>).</summary>
    public void Prepare(int width, int height)
    {
        if (_map is null || _map.Width != width || _map.Height != height)
        {
            Build(width, height);
        }
    }

    private void Build(int width, int height)
    {
        var map = RegionMap.Build(_layout.Zones, width, height);
        _histogram = new int[Copies * map.Masks.Length * _bins];
        if ((long)map.Masks.Length * _bins > ushort.MaxValue + 1)
        {
            throw new ArgumentException($"{map.Masks.Length} distinct zone overlaps is more than one camera can count; use fewer or less overlapping zones");
        }

        var starts = new List<int>();
        var offsets = new List<int>();
        for (var i = 0; i < map.Regions.Length; i++)
        {
            // A run ends at a region change and at the end of each row.
            if (i == 0 || map.Regions[i] != map.Regions[i - 1] || i % width == 0)
            {
                starts.Add(i);
                offsets.Add(map.Regions[i] * _bins);
            }
        }

        starts.Add(map.Regions.Length);
        _runStarts = [.. starts];
        _runOffsets = [.. offsets];
        _regionCounts = new long[map.Masks.Length * _layout.Classes];
        ZoneFrameShares = [.. map.ZonePixels.Select(p => (double)p / (width * height))];
        if (_layout.Ground is { } ground)
        {
            (_areas, GroundExcludedShare) = ground.PixelAreas(width, height);
            _areaSums = new double[map.Masks.Length * AreaBins];
        }

        _map = map;
    }

    /// <summary>Writes the frame's values (see <see cref="AreaLayout"/>) into <paramref name="values"/>.</summary>
    public void Measure(ReadOnlySpan<byte> labels, int width, int height, Span<double> values)
    {
        if (labels.Length != width * height)
        {
            throw new ArgumentException($"{labels.Length} labels for {width}x{height}", nameof(labels));
        }

        if (values.Length != _layout.ValueCount)
        {
            throw new ArgumentException($"{values.Length} values for a layout of {_layout.ValueCount}", nameof(values));
        }

        Prepare(width, height);
        var map = _map!;
        var regions = map.Masks.Length;
        var classes = _layout.Classes;
        values.Clear();
        if (_layout.Zones.Count == 0)
        {
            // No zones: the whole-frame histogram is all there is to count.
            ClassAreaCounter.Count(labels, _classCounts);
            _classCounts.AsSpan().CopyTo(_regionCounts);
        }
        else
        {
            CountByRegion(labels, regions);
        }

        // Region 0 of the layout is the whole frame: every region id adds to it.
        Span<long> counts = stackalloc long[classes];
        for (var zone = -1; zone < _layout.Zones.Count; zone++)
        {
            counts.Clear();
            for (var r = 0; r < regions; r++)
            {
                if (zone >= 0 && (map.Masks[r] & (1u << zone)) == 0)
                {
                    continue;
                }

                var row = _regionCounts.AsSpan(r * classes, classes);
                for (var c = 0; c < classes; c++)
                {
                    counts[c] += row[c];
                }
            }

            WriteShares(counts, values, zone + 1);
        }

        if (_layout.Ground is not null)
        {
            MeasureAreas(labels, map, values);
        }
    }

    private void CountByRegion(ReadOnlySpan<byte> labels, int regions)
    {
        var h = _histogram.AsSpan();
        h.Clear();
        var last = _layout.Classes;
        var copy = regions * _bins;
        var starts = _runStarts;
        var runOffsets = _runOffsets;
        for (var k = 0; k < runOffsets.Length; k++)
        {
            var run = labels[starts[k]..starts[k + 1]];
            var o0 = runOffsets[k];
            int o1 = o0 + copy, o2 = o1 + copy, o3 = o2 + copy;
            var i = 0;
            for (; i + 4 <= run.Length; i += 4)
            {
                h[o0 + Math.Min(run[i], last)]++;
                h[o1 + Math.Min(run[i + 1], last)]++;
                h[o2 + Math.Min(run[i + 2], last)]++;
                h[o3 + Math.Min(run[i + 3], last)]++;
            }

            for (; i < run.Length; i++)
            {
                h[o0 + Math.Min(run[i], last)]++;
            }
        }

        int c1 = copy, c2 = 2 * copy, c3 = 3 * copy;

        var classes = _layout.Classes;
        for (var r = 0; r < regions; r++)
        {
            for (var c = 0; c < classes; c++)
            {
                var b = (r * _bins) + c;
                _regionCounts[(r * classes) + c] = (long)h[b] + h[c1 + b] + h[c2 + b] + h[c3 + b];
            }
        }
    }

    /// <summary>Class shares of the labelled pixels in one region, then the group sums.</summary>
    private void WriteShares(ReadOnlySpan<long> counts, Span<double> values, int region)
    {
        long total = 0;
        foreach (var n in counts)
        {
            total += n;
        }

        var block = values.Slice(_layout.ShareIndex(region, 0), _layout.Series);
        if (total == 0)
        {
            return;
        }

        for (var c = 0; c < counts.Length; c++)
        {
            block[c] = (double)counts[c] / total;
        }

        AddGroups(block);
    }

    private void AddGroups(Span<double> block)
    {
        var groups = _layout.Groups;
        for (var g = 0; g < groups.Count; g++)
        {
            // An index loop: foreach over an IReadOnlyList boxes its enumerator, once per group and frame.
            var members = groups[g].Members;
            var sum = 0.0;
            for (var k = 0; k < members.Count; k++)
            {
                sum += block[members[k]];
            }

            block[_layout.Classes + g] = sum;
        }
    }

    private void MeasureAreas(ReadOnlySpan<byte> labels, RegionMap map, Span<double> values)
    {
        var areas = _areas!;
        var sums = _areaSums.AsSpan();
        sums.Clear();
        var regionOf = map.Regions;
        for (var i = 0; i < labels.Length; i++)
        {
            sums[(regionOf[i] * AreaBins) + labels[i]] += areas[i];
        }

        var classes = _layout.Classes;
        var regions = map.Masks.Length;
        for (var zone = -1; zone < _layout.Zones.Count; zone++)
        {
            var block = values.Slice(_layout.AreaIndex(zone + 1, 0), _layout.Series);
            for (var r = 0; r < regions; r++)
            {
                if (zone >= 0 && (map.Masks[r] & (1u << zone)) == 0)
                {
                    continue;
                }

                for (var c = 0; c < classes; c++)
                {
                    block[c] += sums[(r * AreaBins) + c];
                }
            }

            AddGroups(block);
        }
    }
}
