using EdgeSeg.Pipeline.Areas;
using EdgeSeg.Pipeline.Inference;
using EdgeSeg.Pipeline.Processing;
using EdgeSeg.Pipeline.Synthetic;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// Zones, class groups, occupancy rules and ground planes: their checks that need only the file
/// (<see cref="Validate"/>, run with the rest of the configuration) and those that need the model (its
/// classes, its input size) run by <see cref="Build"/> once it is loaded. Both report every problem with
/// its path.
/// </summary>
public static class AreaConfiguration
{
    /// <summary>Ground classes and what stands on them: what gets square metres unless Ground.Classes says otherwise.</summary>
    public static readonly string[] DefaultGroundClasses =
        ["road", "sidewalk", "terrain", "car", "truck", "bus", "motorcycle", "bicycle", "person", "rider"];

    /// <summary>The checks that need no model.</summary>
    public static void Validate(EdgeSegOptions o, List<string> errors)
    {
        foreach (var (name, members) in o.Statistics.ClassGroups)
        {
            var path = $"Statistics.ClassGroups.{name}";
            if (!IsTopicLevel(name))
            {
                errors.Add($"{path}: a group name must be a non-empty topic level (no '/', '+', '#', spaces)");
            }

            if (members is null || members.Count == 0)
            {
                errors.Add($"{path}: a group needs at least one class");
            }
            else if (members.Distinct(StringComparer.Ordinal).Count() != members.Count)
            {
                errors.Add($"{path}: a class is listed twice");
            }
        }

        for (var i = 0; i < o.Cameras.Count; i++)
        {
            if (o.Cameras[i] is not { } camera)
            {
                continue;
            }

            var path = $"Cameras[{i}]";
            var zoneNames = new HashSet<string>(StringComparer.Ordinal);
            for (var z = 0; z < camera.Zones.Count; z++)
            {
                ValidateZone(camera.Zones[z], $"{path}.Zones[{z}]", zoneNames, errors);
            }

            if (camera.Zones.Count > RegionMap.MaxZones)
            {
                errors.Add($"{path}.Zones: at most {RegionMap.MaxZones} zones per camera, got {camera.Zones.Count}");
            }

            ValidateGround(camera, $"{path}.Ground", errors);
        }
    }

    private static void ValidateZone(ZoneOptions? zone, string path, HashSet<string> names, List<string> errors)
    {
        if (zone is null)
        {
            errors.Add($"{path}: empty zone entry");
            return;
        }

        if (!IsTopicLevel(zone.Name))
        {
            errors.Add($"{path}.Name: required, a topic level (no '/', '+', '#', spaces), got '{zone.Name}'");
        }
        else if (!names.Add(zone.Name))
        {
            errors.Add($"{path}.Name: '{zone.Name}' is already the name of another zone of this camera");
        }

        if (Points(zone.Points, $"{path}.Points", errors) is { } points && Zone.Problem(points) is { } problem)
        {
            errors.Add($"{path}.Points: {problem}");
        }

        var rules = new HashSet<string>(StringComparer.Ordinal);
        for (var r = 0; r < zone.Occupancy.Count; r++)
        {
            var rule = zone.Occupancy[r];
            var at = $"{path}.Occupancy[{r}]";
            if (rule is null)
            {
                errors.Add($"{at}: empty rule");
                continue;
            }

            if (!IsTopicLevel(rule.Name))
            {
                errors.Add($"{at}.Name: required, a plain name (no '/', '+', '#', spaces), got '{rule.Name}'");
            }
            else if (!rules.Add(rule.Name))
            {
                errors.Add($"{at}.Name: '{rule.Name}' is already a rule of this zone");
            }

            if (string.IsNullOrWhiteSpace(rule.Class))
            {
                errors.Add($"{at}.Class: required (a class of the model or a class group)");
            }

            if (!(rule.Above is > 0 and <= 1))
            {
                errors.Add($"{at}.Above: a share above 0 and at most 1, got {rule.Above}");
            }

            if (rule.Below is { } below && !(below >= 0 && below <= rule.Above))
            {
                errors.Add($"{at}.Below: a share from 0 to Above ({rule.Above}), got {below}");
            }

            if (!(rule.MinSeconds is >= 0 and <= 86400))
            {
                errors.Add($"{at}.MinSeconds: 0..86400 seconds, got {rule.MinSeconds}");
            }

            if (!(rule.EndSeconds is >= 0 and <= 86400))
            {
                errors.Add($"{at}.EndSeconds: 0..86400 seconds, got {rule.EndSeconds}");
            }
        }
    }

    private static void ValidateGround(CameraOptions camera, string path, List<string> errors)
    {
        var g = camera.Ground;
        if (g.FromSource && g.Points.Count > 0)
        {
            errors.Add($"{path}: give Points or FromSource, not both");
        }

        if (g.FromSource && !camera.Source.StartsWith(SyntheticFrameSource.Scheme + "://", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{path}.FromSource: only synthetic:// sources know their own calibration; give Points for this camera");
        }

        if (g.Points.Count is > 0 and < 4)
        {
            errors.Add($"{path}.Points: a homography needs at least 4 point pairs, got {g.Points.Count}");
        }

        for (var p = 0; p < g.Points.Count; p++)
        {
            var at = $"{path}.Points[{p}]";
            if (g.Points[p] is not { } pair)
            {
                errors.Add($"{at}: empty point pair");
                continue;
            }

            if (pair.Image is not [var x, var y])
            {
                errors.Add($"{at}.Image: [x, y] in relative image coordinates, got {pair.Image.Count} numbers");
            }
            else if (!(x is >= 0 and <= 1) || !(y is >= 0 and <= 1))
            {
                errors.Add($"{at}.Image: relative coordinates are 0..1, got [{x}, {y}]");
            }

            if (pair.Ground is not [var gx, var gy] || !double.IsFinite(gx) || !double.IsFinite(gy))
            {
                errors.Add($"{at}.Ground: [x, y] in metres, got {pair.Ground.Count} numbers");
            }
        }

        if (!(g.MaxReprojectionErrorPixels is > 0 and <= 1000))
        {
            errors.Add($"{path}.MaxReprojectionErrorPixels: above 0 and at most 1000, got {g.MaxReprojectionErrorPixels}");
        }

        if (!(g.MaxDistanceMetres is > 0 and <= 100_000))
        {
            errors.Add($"{path}.MaxDistanceMetres: above 0 and at most 100000, got {g.MaxDistanceMetres}");
        }

        if (g.Classes.Count > 0 && !g.Enabled)
        {
            errors.Add($"{path}.Classes: needs Points or FromSource");
        }
    }

    /// <summary>
    /// What each camera measures, for a model with <paramref name="labels"/> and a
    /// <paramref name="width"/>×<paramref name="height"/> input: class names resolved, ground planes fitted.
    /// Throws <see cref="ConfigurationException"/> with every problem.
    /// </summary>
    public static IReadOnlyList<CameraAreas> Build(EdgeSegOptions o, LabelSet labels, int width, int height, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(labels);
        var errors = new List<string>();
        var classNames = labels.ClassNames;
        var groups = new List<ClassGroup>();
        foreach (var (name, members) in o.Statistics.ClassGroups)
        {
            if (classNames.Contains(name))
            {
                errors.Add($"Statistics.ClassGroups.{name}: '{name}' is a class of the model; a group needs a name of its own");
            }

            var ids = new List<int>();
            foreach (var m in members)
            {
                var id = IndexOf(classNames, m);
                if (id < 0)
                {
                    errors.Add($"Statistics.ClassGroups.{name}: '{m}' is not a class of the model (it has {string.Join(", ", classNames)})");
                }
                else
                {
                    ids.Add(id);
                }
            }

            groups.Add(new ClassGroup(name, ids.Distinct().ToList()));
        }

        var result = new List<CameraAreas>();
        for (var i = 0; i < o.Cameras.Count; i++)
        {
            var camera = o.Cameras[i];
            var path = $"Cameras[{i}]";
            var zones = Zones(camera);
            var series = (IReadOnlyList<string>)[.. classNames, .. groups.Select(g => g.Name)];
            GroundPlane? ground = null;
            IReadOnlyList<int>? groundSeries = null;
            if (camera.Ground.Enabled)
            {
                ground = FitGround(camera, width, height, $"{path}.Ground", errors, log);
                var wanted = camera.Ground.Classes.Count > 0
                    ? camera.Ground.Classes
                    : [.. DefaultGroundClasses.Where(c => series.Contains(c)),
                        .. groups.Where(g => g.Members.All(m => DefaultGroundClasses.Contains(classNames[m]))).Select(g => g.Name)];
                var ids = new List<int>();
                for (var c = 0; c < wanted.Count; c++)
                {
                    var id = IndexOf(series, wanted[c]);
                    if (id < 0)
                    {
                        errors.Add($"{path}.Ground.Classes[{c}]: '{wanted[c]}' is neither a class of the model nor a class group");
                    }
                    else
                    {
                        ids.Add(id);
                    }
                }

                groundSeries = ids.Distinct().ToList();
            }

            var rules = new List<OccupancyRule>();
            for (var z = 0; z < camera.Zones.Count; z++)
            {
                for (var r = 0; r < camera.Zones[z].Occupancy.Count; r++)
                {
                    var rule = camera.Zones[z].Occupancy[r];
                    var id = IndexOf(series, rule.Class);
                    if (id < 0)
                    {
                        errors.Add($"{path}.Zones[{z}].Occupancy[{r}].Class: '{rule.Class}' is neither a class of the model nor a class group");
                        continue;
                    }

                    rules.Add(new OccupancyRule(
                        rule.Name, z, id, rule.Above, rule.Below ?? (0.8 * rule.Above),
                        TimeSpan.FromSeconds(rule.MinSeconds), TimeSpan.FromSeconds(rule.EndSeconds)));
                }
            }

            if (errors.Count == 0)
            {
                result.Add(new CameraAreas(new AreaLayout(classNames, groups, zones, ground, groundSeries), rules));
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        return result;
    }

    /// <summary>The zones of a camera whose configuration passed <see cref="Validate"/>.</summary>
    public static List<Zone> Zones(CameraOptions camera) =>
        [.. camera.Zones.Select(z => new Zone(z.Name, [.. z.Points.Select(p => new RelativePoint(p[0], p[1]))]))];

    private static GroundPlane? FitGround(CameraOptions camera, int width, int height, string path, List<string> errors, Action<string>? log)
    {
        var g = camera.Ground;
        try
        {
            if (g.FromSource)
            {
                using var source = SyntheticFrameSource.Open(new Uri(camera.Source));
                log?.Invoke($"camera {camera.Name}: ground plane from the synthetic camera (exact), areas to {g.MaxDistanceMetres} m");
                return source.Ground.Plane(width, height, g.MaxDistanceMetres);
            }

            var pairs = g.Points.Select(p => new GroundPair(new RelativePoint(p.Image[0], p.Image[1]), new GroundPoint(p.Ground[0], p.Ground[1]))).ToList();
            var plane = GroundPlane.Fit(pairs, width, height, g.MaxReprojectionErrorPixels, g.MaxDistanceMetres);
            log?.Invoke(FormattableString.Invariant(
                $"camera {camera.Name}: ground plane from {pairs.Count} point pairs, reprojection error RMS {plane.RmsErrorPixels:0.###} px, max {plane.MaxErrorPixels:0.###} px at {width}x{height} (limit {g.MaxReprojectionErrorPixels} px)"));
            return plane;
        }
        catch (GroundCalibrationException e)
        {
            errors.Add($"{path}.Points: {e.Message}");
            return null;
        }
    }

    private static List<RelativePoint>? Points(List<List<double>> raw, string path, List<string> errors)
    {
        var points = new List<RelativePoint>();
        for (var p = 0; p < raw.Count; p++)
        {
            if (raw[p] is not [var x, var y])
            {
                errors.Add($"{path}[{p}]: a point is [x, y], got {raw[p]?.Count ?? 0} numbers");
                return null;
            }

            points.Add(new RelativePoint(x, y));
        }

        return points;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsTopicLevel(string? s) =>
        !string.IsNullOrEmpty(s) && s.Length <= 64 && !s.Any(ch => ch is '/' or '+' or '#' || char.IsWhiteSpace(ch) || char.IsControl(ch));
}
