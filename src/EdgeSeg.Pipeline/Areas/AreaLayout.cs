namespace EdgeSeg.Pipeline.Areas;

/// <summary>A named set of classes whose shares (and areas) are added up: "vehicle" = car + truck + bus + ….</summary>
public sealed record ClassGroup(string Name, IReadOnlyList<int> Members);

/// <summary>
/// What one camera measures per frame besides the whole-frame class shares: the shares of class groups,
/// the same inside each zone, and, with a ground plane, square metres per class and group. Every number
/// of a frame lives in one flat vector (<see cref="ValueCount"/> long) so that a window aggregates them
/// all the same way (mean, min, max, last) without allocating per frame.
/// </summary>
/// <remarks>
/// Layout: a block per region (0 = the whole frame, 1.. = the zones in order); in each block the shares of
/// every series (the classes in model order, then the groups), then, with a ground plane, the square
/// metres of every series.
/// </remarks>
public sealed class AreaLayout
{
    public AreaLayout(
        IReadOnlyList<string> classNames,
        IReadOnlyList<ClassGroup>? groups = null,
        IReadOnlyList<Zone>? zones = null,
        GroundPlane? ground = null,
        IReadOnlyList<int>? groundSeries = null)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ClassNames = classNames;
        Groups = groups ?? [];
        Zones = zones ?? [];
        Ground = ground;
        foreach (var g in Groups)
        {
            if (g.Members.Count == 0 || g.Members.Any(m => m < 0 || m >= classNames.Count) || g.Members.Distinct().Count() != g.Members.Count)
            {
                throw new ArgumentException($"group '{g.Name}': members must be distinct classes of the model", nameof(groups));
            }
        }

        if (Zones.Select(z => z.Name).Distinct(StringComparer.Ordinal).Count() != Zones.Count)
        {
            throw new ArgumentException("zone names must be unique", nameof(zones));
        }

        if (Zones.Count > RegionMap.MaxZones)
        {
            throw new ArgumentException($"at most {RegionMap.MaxZones} zones per camera, got {Zones.Count}", nameof(zones));
        }

        SeriesNames = [.. classNames, .. Groups.Select(g => g.Name)];
        GroundSeries = ground is null ? [] : groundSeries ?? [.. Enumerable.Range(0, SeriesNames.Count)];
        if (GroundSeries.Any(s => s < 0 || s >= SeriesNames.Count))
        {
            throw new ArgumentException("ground series out of range", nameof(groundSeries));
        }
    }

    /// <summary>A layout of the whole-frame class shares only (what a camera without zones, groups or ground measures).</summary>
    public static AreaLayout ClassesOnly(IReadOnlyList<string> classNames) => new(classNames);

    public IReadOnlyList<string> ClassNames { get; }

    public IReadOnlyList<ClassGroup> Groups { get; }

    public IReadOnlyList<Zone> Zones { get; }

    public GroundPlane? Ground { get; }

    /// <summary>Classes, then groups.</summary>
    public IReadOnlyList<string> SeriesNames { get; }

    /// <summary>The series (indices into <see cref="SeriesNames"/>) whose square metres are published.</summary>
    public IReadOnlyList<int> GroundSeries { get; }

    public int Classes => ClassNames.Count;

    public int Series => SeriesNames.Count;

    public int Regions => 1 + Zones.Count;

    public int Stride => Ground is null ? Series : 2 * Series;

    public int ValueCount => Regions * Stride;

    /// <summary>Index of the share of <paramref name="series"/> in <paramref name="region"/> (0 = whole frame, 1 + zone index).</summary>
    public int ShareIndex(int region, int series) => (region * Stride) + series;

    /// <summary>Index of the square metres of <paramref name="series"/> in <paramref name="region"/>; needs a ground plane.</summary>
    public int AreaIndex(int region, int series) =>
        Ground is null ? throw new InvalidOperationException("no ground plane") : (region * Stride) + Series + series;

    /// <summary>Index of a class or group by name, or -1.</summary>
    public int SeriesIndex(string name)
    {
        for (var i = 0; i < SeriesNames.Count; i++)
        {
            if (string.Equals(SeriesNames[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
