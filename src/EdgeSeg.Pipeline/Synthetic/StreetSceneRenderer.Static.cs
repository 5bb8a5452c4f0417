namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>Ground, sky, backdrop and the buildings and barriers along both sides.</summary>
public sealed partial class StreetSceneRenderer
{
    private void DrawGround()
    {
        var s = _scene;
        var road = Lit(s.Asphalt, 9);
        var paving = Lit(s.Paving, 12);
        var curb = Lit(s.Curb, 8);
        var grass = Lit(s.Grass, 22);
        var marking = Lit(s.Marking, 10);
        var yellow = Lit(new Bgr(40, 190, 230), 10);
        var crossRoad = Lit(s.Asphalt.Scale(0.95), 9);
        var laneHalf = s.Lanes * s.LaneWidth / 2;
        var firstRow = Math.Max(0, Canvas.FirstCentre(_cy + 1e-3));
        const double Line = 0.14;

        for (var y = firstRow; y < Height; y++)
        {
            var yc = y + 0.5;
            var z = _f * _hc / (yc - _cy);
            var depth = (float)z;
            var inCross = s.HasIntersection && z >= s.IntersectionZ0 && z < s.IntersectionZ1;

            // Left to right in world X; every span boundary is a fixed X, so the whole row is exact.
            for (var side = 0; side < 2; side++)
            {
                var sg = side == 0 ? -1.0 : 1.0;
                var rh = s.RoadHalf(side);
                var co = s.CurbOuter(side);
                var so = s.SidewalkOuter(side);
                var pl = s.PropertyLine(side);
                if (inCross)
                {
                    var crossWalk = s.Sidewalk[side];
                    var onCrossSidewalk = z < s.IntersectionZ0 + crossWalk || z >= s.IntersectionZ1 - crossWalk;
                    Span(y, sg * rh, sg * 1e5, onCrossSidewalk ? TrainId.Sidewalk : TrainId.Road, onCrossSidewalk ? paving : crossRoad, depth, z);
                    if (onCrossSidewalk)
                    {
                        Span(y, sg * rh, sg * co, TrainId.Sidewalk, curb, depth, z);
                    }

                    continue;
                }

                var seg = s.SegmentAt(side, z);
                var yardPaved = seg is { HasBuilding: true, PavedYard: true };
                Span(y, sg * pl, sg * 1e5, yardPaved ? TrainId.Sidewalk : TrainId.Terrain, yardPaved ? paving : grass, depth, z);
                if (pl > so)
                {
                    Span(y, sg * so, sg * pl, TrainId.Terrain, grass, depth, z);
                }

                Span(y, sg * co, sg * so, TrainId.Sidewalk, paving, depth, z);
                Span(y, sg * rh, sg * co, TrainId.Sidewalk, curb, depth, z);
            }

            // Road surface, then markings painted on it (still road).
            Span(y, -s.RoadHalf(0), s.RoadHalf(1), TrainId.Road, road, depth, z);
            var markingsHere = !inCross;
            if (markingsHere)
            {
                // Edge lines between the lanes and parking strips or curbs.
                Span(y, -laneHalf + 0.1, -laneHalf + 0.1 + Line, TrainId.Road, marking, depth, z);
                Span(y, laneHalf - 0.1 - Line, laneHalf - 0.1, TrainId.Road, marking, depth, z);
                var dashOn = PositiveMod(z, 9.0) < 3.0;
                for (var k = 1; k < s.Lanes; k++)
                {
                    var xk = -laneHalf + (k * s.LaneWidth);
                    var centre = s.Lanes % 2 == 0 && k == s.Lanes / 2;
                    if (centre && s.YellowCentre)
                    {
                        Span(y, xk - 0.22, xk - 0.08, TrainId.Road, yellow, depth, z);
                        Span(y, xk + 0.08, xk + 0.22, TrainId.Road, yellow, depth, z);
                    }
                    else if (centre || dashOn)
                    {
                        Span(y, xk - (Line / 2), xk + (Line / 2), TrainId.Road, marking, depth, z);
                    }
                }
            }

            if (s.HasZebra && z >= s.ZebraZ0 && z < s.ZebraZ1)
            {
                for (var x = -laneHalf + 0.3; x < laneHalf - 0.3; x += 1.0)
                {
                    Span(y, x, Math.Min(x + 0.5, laneHalf - 0.3), TrainId.Road, marking, depth, z);
                }
            }

            if (s.HasZebra && z >= s.ZebraZ0 - 1.4 && z < s.ZebraZ0 - 1.0)
            {
                Span(y, -laneHalf, laneHalf, TrainId.Road, marking, depth, z);
            }

            // Buildings on the sun's side shade a strip of the street next to them.
            if (s.SunSide != 0 && !inCross)
            {
                var side = s.SunSide < 0 ? 0 : 1;
                var seg = s.SegmentAt(side, z);
                if (seg is not null)
                {
                    var (lineX, h) = seg.HasBuilding ? (seg.FacadeX, seg.BuildingHeight)
                        : seg.Barrier != BarrierKind.None ? (seg.BarrierX, seg.BarrierHeight) : (0, 0);
                    if (h > 0)
                    {
                        var sg = side == 0 ? -1.0 : 1.0;
                        var a = ScreenX(sg * lineX, z);
                        var b = ScreenX(sg * (lineX - (h * s.ShadowLength)), z);
                        _canvas.ShadeSpan(y, Canvas.FirstCentre(Math.Min(a, b)), Canvas.FirstCentre(Math.Max(a, b)), 150, GroundMask);
                    }
                }
            }
        }
    }

    /// <summary>Fills the part of row y between world X positions <paramref name="xa"/> and <paramref name="xb"/> at depth z.</summary>
    private void Span(int y, double xa, double xb, byte label, in Paint paint, float depth, double z)
    {
        var a = ScreenX(xa, z);
        var b = ScreenX(xb, z);
        if (a > b)
        {
            (a, b) = (b, a);
        }

        _canvas.FillSpanF(y, a, b, label, paint, depth);
    }

    private void DrawSky()
    {
        var s = _scene;
        var lastRow = Math.Min(Height, Canvas.FirstCentre(_cy + 1e-3));
        for (var y = 0; y < lastRow; y++)
        {
            // Gradient from the zenith colour at the top of the view to the horizon colour.
            var t = Math.Clamp((y + 0.5) / Math.Max(1.0, _cy), 0, 1);
            t = Math.Sqrt(t);
            var c = new Bgr(
                s.SkyZenith.B + ((s.SkyHorizon.B - s.SkyZenith.B) * t),
                s.SkyZenith.G + ((s.SkyHorizon.G - s.SkyZenith.G) * t),
                s.SkyZenith.R + ((s.SkyHorizon.R - s.SkyZenith.R) * t));
            _canvas.FillSpan(y, 0, Width, TrainId.Sky, Emit(c, s.Overcast ? 4 : 3), float.PositiveInfinity);
        }

        var cloud = Emit(new Bgr(245, 245, 245), 6);
        var cloudShade = Emit(new Bgr(215, 212, 210), 6);
        foreach (var (x, y, rx, ry) in s.Clouds)
        {
            var cx = x * Width;
            var cy = y * _cy;
            _canvas.FillEllipse(cx, cy, rx * Width, ry * Width, TrainId.Sky, cloudShade, float.PositiveInfinity);
            _canvas.FillEllipse(cx - (rx * Width * 0.2), cy - (ry * Width * 0.25), rx * Width * 0.7, ry * Width * 0.7, TrainId.Sky, cloud, float.PositiveInfinity);
        }
    }

    private void DrawBackdrop()
    {
        const double Z = StreetScene.FarZ;
        var depth = (float)Z;
        foreach (var b in _scene.Backdrop)
        {
            var x0 = ScreenX(b.X0, Z);
            var x1 = ScreenX(b.X1, Z);
            if (x1 < 0 || x0 > Width)
            {
                continue;
            }

            var top = ScreenY(b.Height, Z);
            var bottom = ScreenY(0, Z);
            if (b.Trees)
            {
                var paint = Lit(b.Colour, 30);
                var rx = (x1 - x0) / 6;
                _canvas.FillRect(x0, top + rx, x1, bottom, TrainId.Vegetation, paint, depth);
                for (var k = 0; k < 6; k++)
                {
                    _canvas.FillEllipse(x0 + ((k + 0.5) * rx), top + rx, rx * 0.7, rx * 0.8, TrainId.Vegetation, paint, depth);
                }
            }
            else
            {
                _canvas.FillRect(x0, top, x1, bottom, TrainId.Building, Lit(b.Colour, 8), depth);
            }
        }
    }

    private void DrawSides()
    {
        for (var side = 0; side < 2; side++)
        {
            var sg = side == 0 ? -1 : 1;
            foreach (var seg in _scene.Segments[side])
            {
                if (seg.HasBuilding)
                {
                    var wall = Lit(seg.BuildingColour, 7);
                    var glass = Lit(seg.WindowColour, 6);
                    var lit = Emit(new Bgr(120, 200, 245), 8);
                    var frame = Lit(seg.BuildingColour.Scale(0.75), 6);
                    var facade = new FacadePaints(wall, glass, lit, frame);
                    DrawFacade(sg, seg.FacadeX, seg.Z0, seg.Z1, seg.BuildingHeight, TrainId.Building, seg, facade);
                    if (seg.Z0 > 0.5)
                    {
                        DrawFrontFace(sg, seg, facade);
                    }
                }

                if (seg.Barrier != BarrierKind.None)
                {
                    var label = seg.Barrier switch
                    {
                        BarrierKind.Fence => TrainId.Fence,
                        BarrierKind.Wall => TrainId.Wall,
                        _ => TrainId.Vegetation,
                    };
                    var main = Lit(seg.BarrierColour, seg.Barrier == BarrierKind.Hedge ? 34 : 8);
                    var dark = Lit(seg.BarrierColour.Scale(0.6), seg.Barrier == BarrierKind.Hedge ? 34 : 6);
                    DrawFacade(sg, seg.BarrierX, seg.Z0, seg.Z1, seg.BarrierHeight, label, seg, new FacadePaints(main, dark, dark, dark));
                }
            }
        }
    }

    /// <summary>Paints of a surface, indexed by <see cref="SurfacePaint"/>'s result.</summary>
    private sealed class FacadePaints(Paint wall, Paint glass, Paint lit, Paint frame)
    {
        public const int Wall = 0;
        public const int Glass = 1;
        public const int Lit = 2;
        public const int Frame = 3;

        public Paint[] ByIndex { get; } = [wall, glass, lit, frame];
    }

    /// <summary>
    /// A vertical plane at X = side × <paramref name="lineX"/> between depths z0 and z1: each pixel
    /// column sees one depth, so the wall is drawn column by column with exact perspective.
    /// </summary>
    private void DrawFacade(int side, double lineX, double z0, double z1, double height, byte label, SideSegment seg, FacadePaints paints)
    {
        var wx = side * lineX;
        var zNear = Math.Max(z0, 0.5);
        if (z1 <= zNear)
        {
            return;
        }

        var xa = ScreenX(wx, zNear);
        var xb = ScreenX(wx, z1);
        var c0 = Math.Max(0, Canvas.FirstCentre(Math.Min(xa, xb)));
        var c1 = Math.Min(Width, Canvas.FirstCentre(Math.Max(xa, xb)));
        var num = _f * (wx - _camX);
        var byIndex = paints.ByIndex;
        for (var col = c0; col < c1; col++)
        {
            var dx = col + 0.5 - _cx;
            if (Math.Abs(dx) < 1e-9)
            {
                continue;
            }

            var z = num / dx;
            if (z < zNear || z >= z1)
            {
                continue;
            }

            var r0 = Math.Max(0, Canvas.FirstCentre(ScreenY(height, z)));
            var r1 = Math.Min(Height, Canvas.FirstCentre(ScreenY(0, z)));
            var depth = (float)z;
            var u = z - seg.Z0;
            var invF = z / _f;
            for (var row = r0; row < r1; row++)
            {
                var yWorld = _hc - ((row + 0.5 - _cy) * invF);
                _canvas.Put((row * Width) + col, label, byIndex[SurfacePaint(label, seg, u, yWorld, height)], depth);
            }
        }
    }

    /// <summary>The face of a building that looks down the street (towards the camera) at its near end.</summary>
    private void DrawFrontFace(int side, SideSegment seg, FacadePaints paints)
    {
        var z = seg.Z0;
        var inner = side * seg.FacadeX;
        var outer = side * (seg.FacadeX + 40);
        var xa = ScreenX(inner, z);
        var xb = ScreenX(outer, z);
        var c0 = Math.Max(0, Canvas.FirstCentre(Math.Min(xa, xb)));
        var c1 = Math.Min(Width, Canvas.FirstCentre(Math.Max(xa, xb)));
        var r0 = Math.Max(0, Canvas.FirstCentre(ScreenY(seg.BuildingHeight, z)));
        var r1 = Math.Min(Height, Canvas.FirstCentre(ScreenY(0, z)));
        var depth = (float)z;
        var invF = z / _f;
        var byIndex = paints.ByIndex;
        for (var row = r0; row < r1; row++)
        {
            var yWorld = _hc - ((row + 0.5 - _cy) * invF);
            for (var col = c0; col < c1; col++)
            {
                var u = Math.Abs(_camX + ((col + 0.5 - _cx) * invF)) - seg.FacadeX;
                _canvas.Put((row * Width) + col, TrainId.Building, byIndex[SurfacePaint(TrainId.Building, seg, u + 0.7, yWorld, seg.BuildingHeight)], depth);
            }
        }
    }

    /// <summary>The paint of a facade point at <paramref name="u"/> metres along and <paramref name="y"/> metres up.</summary>
    private static int SurfacePaint(byte label, SideSegment seg, double u, double y, double height)
    {
        switch (label)
        {
            case TrainId.Building:
                {
                    if (y > height - 0.5)
                    {
                        return FacadePaints.Frame;
                    }

                    var pitch = seg.WindowPitchZ;
                    var along = PositiveMod(u, pitch);
                    var margin = (pitch - seg.WindowWidth) / 2;
                    if (y < seg.FloorHeight)
                    {
                        // Ground floor: wide shop windows.
                        return y > 0.5 && y < seg.FloorHeight - 0.5 && along > 0.25 && along < pitch - 0.25 ? FacadePaints.Glass : FacadePaints.Wall;
                    }

                    var inFloor = PositiveMod(y, seg.FloorHeight);
                    var sill = (seg.FloorHeight - seg.WindowHeight) / 2;
                    if (along > margin && along < pitch - margin && inFloor > sill && inFloor < sill + seg.WindowHeight)
                    {
                        if (seg.LitWindowShare > 0)
                        {
                            var key = SceneRandom.Mix((ulong)(long)Math.Floor(u / pitch) * 31 + (ulong)(long)Math.Floor(y / seg.FloorHeight) + ((ulong)BitConverter.DoubleToInt64Bits(seg.Z0) << 20));
                            if ((key & 0xFFFF) < seg.LitWindowShare * 65536)
                            {
                                return FacadePaints.Lit;
                            }
                        }

                        return FacadePaints.Glass;
                    }

                    return FacadePaints.Wall;
                }

            case TrainId.Fence:
                if (y > height - 0.12)
                {
                    return FacadePaints.Frame;
                }

                return PositiveMod(u, 0.16) < 0.1 ? FacadePaints.Wall : FacadePaints.Glass;

            case TrainId.Wall:
                return PositiveMod(y, 0.55) < 0.05 || y > height - 0.12 ? FacadePaints.Frame : FacadePaints.Wall;

            default:
                return PositiveMod((u * 1.7) + (y * 2.3), 1.3) < 0.25 ? FacadePaints.Glass : FacadePaints.Wall;
        }
    }

    /// <summary>v mod m in [0, m). Floor-based because the % operator on doubles calls fmod, which is slow per pixel.</summary>
    private static double PositiveMod(double v, double m) => v - (m * Math.Floor(v / m));
}
