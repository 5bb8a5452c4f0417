namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>A colour before lighting, BGR in 0..255.</summary>
internal readonly record struct Bgr(double B, double G, double R)
{
    public Bgr Scale(double k) => new(B * k, G * k, R * k);
}

internal enum LightMode
{
    Day,
    Dusk,
    Night,
}

internal enum BarrierKind
{
    None,
    Fence,
    Wall,
    Hedge,
}

/// <summary>
/// A stretch of one side of the street, beyond the sidewalk: an optional barrier (fence, wall,
/// hedge) at <see cref="BarrierX"/> and an optional building facade at <see cref="FacadeX"/>, with
/// terrain or paving between. Distances are metres from the road's centre line.
/// </summary>
internal sealed class SideSegment
{
    public double Z0 { get; init; }

    public double Z1 { get; init; }

    public bool HasBuilding { get; init; }

    public double FacadeX { get; init; }

    public double BuildingHeight { get; init; }

    public Bgr BuildingColour { get; init; }

    public Bgr WindowColour { get; init; }

    public double WindowPitchZ { get; init; }

    public double WindowWidth { get; init; }

    public double FloorHeight { get; init; }

    public double WindowHeight { get; init; }

    public double LitWindowShare { get; init; }

    public bool PavedYard { get; init; }

    public BarrierKind Barrier { get; init; }

    public double BarrierX { get; init; }

    public double BarrierHeight { get; init; }

    public Bgr BarrierColour { get; init; }
}

internal enum PropKind
{
    StreetLamp,
    SignPole,
    TrafficLightPole,
    OverheadTrafficLight,
    Tree,
    Bollard,
    ParkedCar,
    ParkedBicycle,
}

/// <summary>Something that stands still: street furniture, trees, parked vehicles.</summary>
internal sealed class Prop
{
    public PropKind Kind { get; init; }

    public double X { get; init; }

    public double Z { get; init; }

    /// <summary>+1 or −1: the side of the street it stands on, which way arms reach.</summary>
    public int Side { get; init; }

    public double Height { get; init; }

    public double Size { get; init; }

    public int Variant { get; init; }

    public Bgr Colour { get; init; }

    public Bgr Colour2 { get; init; }

    /// <summary>A sign fixed to a lamp or light pole, or none (Variant &lt; 0).</summary>
    public int SignVariant { get; init; } = -1;

    public double Phase { get; init; }
}

internal enum MoverKind
{
    Car,
    Truck,
    Bus,
    Motorcycle,
    Bicycle,
    Pedestrian,
}

/// <summary>
/// Something that moves in a straight line and wraps around inside [<see cref="Min"/>, <see cref="Max"/>)
/// along its axis, so a scene plays forever with the same population.
/// </summary>
internal sealed class Mover
{
    public MoverKind Kind { get; init; }

    /// <summary>True when it moves along X (crossing the street), false when along Z (with the traffic).</summary>
    public bool AlongX { get; init; }

    /// <summary>Position across the axis of motion (Z when along X, X when along Z).</summary>
    public double Fixed { get; init; }

    public double Start { get; init; }

    /// <summary>Metres per second along the axis; sign is the direction.</summary>
    public double Speed { get; init; }

    public double Min { get; init; }

    public double Max { get; init; }

    public double Width { get; init; }

    public double Length { get; init; }

    public double Height { get; init; }

    public Bgr Colour { get; init; }

    public Bgr Colour2 { get; init; }

    public Bgr Colour3 { get; init; }

    public Bgr Skin { get; init; }

    public int Variant { get; init; }

    /// <summary>For a scripted stop (a queue): where it stands, from when until when; null for free traffic.</summary>
    public (double At, double From, double Until)? Stop { get; init; }

    public double Position(double t)
    {
        if (Stop is { } stop)
        {
            // Drives in at |Speed|, stands, drives on in the same direction.
            return t < stop.From ? stop.At - (Speed * (stop.From - t))
                : t > stop.Until ? stop.At + (Speed * (t - stop.Until))
                : stop.At;
        }

        var span = Max - Min;
        var p = (Start + (Speed * t) - Min) % span;
        if (p < 0)
        {
            p += span;
        }

        return Min + p;
    }
}

/// <summary>A far backdrop element: a block of buildings or a tree line standing at the horizon.</summary>
internal readonly record struct BackdropBlock(double X0, double X1, double Height, Bgr Colour, bool Trees);

/// <summary>
/// Everything about one seed's street that does not change over time: camera, layout, furniture,
/// lighting, image degradations and the population of movers. Units are metres; X right, Y up,
/// Z forward from the camera.
/// </summary>
internal sealed class StreetScene
{
    public const double FarZ = 260.0;
    public const double SegmentEnd = 240.0;

    public double FocalOverWidth { get; init; }

    public double CentreXOverWidth { get; init; }

    public double HorizonOverHeight { get; init; }

    public double CameraHeight { get; init; }

    public double CameraX { get; init; }

    public int Lanes { get; init; }

    public double LaneWidth { get; init; }

    /// <summary>Parking strip width on the left (index 0) and right (index 1).</summary>
    public double[] Parking { get; init; } = [0, 0];

    public double[] Sidewalk { get; init; } = [3, 3];

    public double[] Verge { get; init; } = [0, 0];

    public double CurbWidth { get; init; }

    public bool LeftHandTraffic { get; init; }

    public double IntersectionZ0 { get; init; }

    public double IntersectionZ1 { get; init; }

    public bool HasIntersection => IntersectionZ1 > IntersectionZ0;

    public double ZebraZ0 { get; init; }

    public double ZebraZ1 { get; init; }

    public bool HasZebra => ZebraZ1 > ZebraZ0;

    public bool YellowCentre { get; init; }

    public List<SideSegment>[] Segments { get; } = [[], []];

    public List<Prop> Props { get; } = [];

    public List<Mover> Movers { get; } = [];

    public List<BackdropBlock> Backdrop { get; } = [];

    public Bgr Asphalt { get; init; }

    public Bgr Paving { get; init; }

    public Bgr Curb { get; init; }

    public Bgr Grass { get; init; }

    public Bgr Marking { get; init; }

    public LightMode Light { get; init; }

    /// <summary>Multiplier applied to every reflected colour (BGR).</summary>
    public Bgr Ambient { get; init; }

    public Bgr SkyHorizon { get; init; }

    public Bgr SkyZenith { get; init; }

    public bool Overcast { get; init; }

    /// <summary>−1: sun on the left (its buildings shade the street), +1: right, 0: no hard shadows.</summary>
    public int SunSide { get; init; }

    public double ShadowLength { get; init; }

    public List<(double X, double Y, double Rx, double Ry)> Clouds { get; } = [];

    public double SensorNoise { get; init; }

    public double BlurSigma { get; init; }

    /// <summary>JPEG quality of the re-encode, or 0 for none.</summary>
    public int JpegQuality { get; init; }

    public double RoadHalf(int side) => (Lanes * LaneWidth / 2) + Parking[side];

    public double CurbOuter(int side) => RoadHalf(side) + CurbWidth;

    public double SidewalkOuter(int side) => CurbOuter(side) + Sidewalk[side];

    public double PropertyLine(int side) => SidewalkOuter(side) + Verge[side];

    public SideSegment? SegmentAt(int side, double z)
    {
        foreach (var s in Segments[side])
        {
            if (z >= s.Z0 && z < s.Z1)
            {
                return s;
            }
        }

        return null;
    }
}

/// <summary>
/// A queue that forms and dissolves: <see cref="Cars"/> cars arrive at a stop line one every
/// <see cref="Interval"/> seconds from <see cref="FormsAt"/>, and drive off in the same order, one every
/// <see cref="LeaveInterval"/> seconds, from <see cref="DissolvesAt"/> (as a platoon does at a green light).
/// They drive at <see cref="Speed"/> metres per second.
/// </summary>
public sealed record QueueScript(double FormsAt, double DissolvesAt, int Cars = 6, double Interval = 1.0, double LeaveInterval = 0.3, double Speed = 12);

/// <summary>Where a scripted queue stands, in the ground coordinates of <see cref="SyntheticGroundTruth"/> (metres, camera at the origin).</summary>
/// <param name="Left">The lane's left edge (X).</param>
/// <param name="Right">The lane's right edge (X).</param>
/// <param name="Front">The stop line (Y, forward from the camera).</param>
/// <param name="Back">The rear of the last car (Y).</param>
public sealed record QueueGeometry(double Left, double Right, double Front, double Back);
