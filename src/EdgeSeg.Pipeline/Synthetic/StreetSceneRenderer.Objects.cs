namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>Street furniture, trees, vehicles and people.</summary>
public sealed partial class StreetSceneRenderer
{
    private const double NearClip = 1.0;

    private static readonly Bgr TyreColour = new(28, 28, 30);
    private static readonly Bgr HubColour = new(120, 120, 125);

    // ---- billboard helpers: shapes in a plane of constant Z, in world metres ----

    /// <summary>Axis-aligned rectangle at depth z; at least <paramref name="minPx"/> pixels wide so thin poles never break up.</summary>
    private void BRect(double x0, double x1, double y0, double y1, double z, byte label, in Paint paint, float depth, double minPx = 0)
    {
        if (z < NearClip)
        {
            return;
        }

        var a = ScreenX(x0, z);
        var b = ScreenX(x1, z);
        if (b - a < minPx)
        {
            var mid = (a + b) / 2;
            a = mid - (minPx / 2);
            b = mid + (minPx / 2);
        }

        _canvas.FillRect(a, ScreenY(y1, z), b, ScreenY(y0, z), label, paint, depth);
    }

    private void BEllipse(double x, double y, double rx, double ry, double z, byte label, in Paint paint, float depth)
    {
        if (z < NearClip)
        {
            return;
        }

        var k = _f / z;
        _canvas.FillEllipse(ScreenX(x, z), ScreenY(y, z), rx * k, ry * k, label, paint, depth);
    }

    /// <summary>A straight limb of half-width <paramref name="hw"/> from (xa, ya) to (xb, yb), as a quad.</summary>
    private void BLimb(double xa, double ya, double xb, double yb, double hw, double z, byte label, in Paint paint, float depth)
    {
        if (z < NearClip)
        {
            return;
        }

        var dx = xb - xa;
        var dy = yb - ya;
        var len = Math.Sqrt((dx * dx) + (dy * dy));
        if (len < 1e-9)
        {
            return;
        }

        var nx = -dy / len * hw;
        var ny = dx / len * hw;
        var p = _poly.AsSpan(0, 4);
        p[0] = Project(xa + nx, ya + ny, z);
        p[1] = Project(xb + nx, yb + ny, z);
        p[2] = Project(xb - nx, yb - ny, z);
        p[3] = Project(xa - nx, ya - ny, z);
        _canvas.FillPolygon(p, label, paint, depth);
    }

    private void BPolygon(ReadOnlySpan<double> xy, double z, byte label, in Paint paint, float depth)
    {
        if (z < NearClip)
        {
            return;
        }

        var n = xy.Length / 2;
        var p = _poly.AsSpan(0, n);
        for (var i = 0; i < n; i++)
        {
            p[i] = Project(xy[2 * i], xy[(2 * i) + 1], z);
        }

        _canvas.FillPolygon(p, label, paint, depth);
    }

    // ---- static props ----

    private void DrawProps()
    {
        foreach (var p in _scene.Props)
        {
            if (p.Z < NearClip + 0.5)
            {
                continue;
            }

            switch (p.Kind)
            {
                case PropKind.StreetLamp:
                    DrawStreetLamp(p);
                    break;
                case PropKind.SignPole:
                    {
                        var depth = (float)p.Z;
                        BRect(p.X - p.Size, p.X + p.Size, 0, p.Height, p.Z, TrainId.Pole, Lit(p.Colour, 6), depth, 1.0);
                        DrawSign(p.Variant, p.X, p.Height - (p.Phase / 2), p.Z - 0.05, p.Phase);
                        break;
                    }

                case PropKind.Bollard:
                    BRect(p.X - p.Size, p.X + p.Size, 0, p.Height, p.Z, TrainId.Pole, Lit(p.Colour, 6), (float)p.Z, 1.0);
                    break;
                case PropKind.TrafficLightPole:
                    {
                        var depth = (float)p.Z;
                        BRect(p.X - p.Size, p.X + p.Size, 0, p.Height, p.Z, TrainId.Pole, Lit(p.Colour, 6), depth, 1.0);
                        DrawTrafficLight(p.X, p.Height + 0.9, p.Z - 0.05, p.Variant, p.Colour2);
                        if (p.SignVariant >= 0)
                        {
                            DrawSign(p.SignVariant, p.X, p.Height - 1.1, p.Z - 0.05, 0.6);
                        }

                        break;
                    }

                case PropKind.OverheadTrafficLight:
                    DrawOverheadLight(p);
                    break;
                case PropKind.Tree:
                    DrawTree(p);
                    break;
                case PropKind.ParkedCar:
                    {
                        var z0 = p.Z;
                        var mover = new Mover
                        {
                            Kind = MoverKind.Car,
                            Fixed = p.X,
                            Width = p.Phase,
                            Length = p.Size,
                            Height = p.Height,
                            Colour = p.Colour,
                            Variant = p.Variant,
                            Speed = p.Side > 0 ? 1 : -1,
                        };
                        DrawVehicle(mover, z0);
                        break;
                    }

                case PropKind.ParkedBicycle:
                    {
                        // Standing across the sidewalk: its long axis is X, so it is seen side-on.
                        var frame = new Mover
                        {
                            Kind = MoverKind.Bicycle,
                            AlongX = true,
                            Fixed = p.Z,
                            Width = 0.6,
                            Length = 1.7 * p.Size,
                            Height = 1.05,
                            Colour = p.Colour,
                            Speed = p.Variant == 0 ? 1 : -1,
                        };
                        DrawVehicle(frame, p.X - (frame.Length / 2), rider: false);
                        break;
                    }
            }
        }
    }

    private void DrawStreetLamp(Prop p)
    {
        var depth = (float)p.Z;
        var paint = Lit(p.Colour, 6);
        BRect(p.X - p.Size, p.X + p.Size, 0, p.Height, p.Z, TrainId.Pole, paint, depth, 1.0);
        var reach = -p.Side * p.Phase;
        var armEnd = p.X + reach;
        BRect(Math.Min(p.X, armEnd), Math.Max(p.X, armEnd), p.Height - 0.12, p.Height, p.Z, TrainId.Pole, paint, depth, 1.0);
        var head = IsDark ? Emit(new Bgr(170, 235, 255), 4) : Lit(new Bgr(200, 200, 195), 4);
        BRect(armEnd - 0.3, armEnd + 0.3, p.Height - 0.3, p.Height - 0.05, p.Z, TrainId.Pole, paint, depth);
        BRect(armEnd - 0.24, armEnd + 0.24, p.Height - 0.36, p.Height - 0.26, p.Z - 0.01, TrainId.Pole, head, depth);
        if (p.SignVariant >= 0)
        {
            DrawSign(p.SignVariant, p.X - (p.Side * 0.1), 2.8, p.Z - 0.05, 0.65);
        }
    }

    private void DrawOverheadLight(Prop p)
    {
        var depth = (float)p.Z;
        var paint = Lit(p.Colour, 6);
        BRect(p.X - p.Size, p.X + p.Size, 0, p.Height, p.Z, TrainId.Pole, paint, depth, 1.0);
        var armEnd = p.X - (p.Side * p.Phase);
        BRect(Math.Min(p.X, armEnd), Math.Max(p.X, armEnd), p.Height - 0.2, p.Height, p.Z, TrainId.Pole, paint, depth, 1.0);
        DrawTrafficLight(armEnd + (p.Side * 0.2), p.Height - 0.2, p.Z - 0.05, p.Variant, p.Colour2);
        if (p.Phase > 4)
        {
            DrawTrafficLight(p.X - (p.Side * p.Phase * 0.5), p.Height - 0.2, p.Z - 0.05, p.Variant, p.Colour2);
        }

        if (p.SignVariant >= 0)
        {
            DrawSign(3, p.X - (p.Side * p.Phase * 0.25), p.Height - 0.55, p.Z - 0.05, 0.6);
        }
    }

    /// <summary>A three-lamp signal head hanging from <paramref name="top"/>; <paramref name="state"/> picks the lit lamp.</summary>
    private void DrawTrafficLight(double x, double top, double z, int state, Bgr housing)
    {
        var depth = (float)z;
        BRect(x - 0.18, x + 0.18, top - 0.95, top, z, TrainId.TrafficLight, Lit(housing, 6), depth, 2.0);
        for (var i = 0; i < 3; i++)
        {
            var on = i == state;
            var colour = i switch
            {
                0 => new Bgr(40, 40, 255),
                1 => new Bgr(30, 200, 255),
                _ => new Bgr(150, 255, 80),
            };
            var paint = on ? Emit(colour, 6) : Lit(colour.Scale(0.22), 4);
            BEllipse(x, top - 0.17 - (i * 0.3), 0.1, 0.1, z - 0.01, TrainId.TrafficLight, paint, depth);
        }
    }

    /// <summary>A sign plate: ring, disc, triangle, rectangle, diamond or octagon.</summary>
    private void DrawSign(int variant, double x, double y, double z, double size)
    {
        var depth = (float)(z - 0.01);
        var r = size / 2;
        var red = SignPaint(new Bgr(35, 35, 200));
        var white = SignPaint(new Bgr(235, 235, 235));
        var blue = SignPaint(new Bgr(170, 80, 20));
        var yellow = SignPaint(new Bgr(20, 200, 240));
        var dark = SignPaint(new Bgr(30, 30, 30));
        switch (variant)
        {
            case 0:
                BEllipse(x, y, r, r, z, TrainId.TrafficSign, red, depth);
                BEllipse(x, y, r * 0.72, r * 0.72, z - 0.01, TrainId.TrafficSign, white, depth);
                BRect(x - (r * 0.4), x + (r * 0.4), y - (r * 0.12), y + (r * 0.12), z - 0.02, TrainId.TrafficSign, dark, depth);
                break;
            case 1:
                BEllipse(x, y, r, r, z, TrainId.TrafficSign, blue, depth);
                BLimb(x - (r * 0.5), y - (r * 0.3), x + (r * 0.45), y + (r * 0.35), r * 0.12, z - 0.01, TrainId.TrafficSign, white, depth);
                break;
            case 2:
                BPolygon([x - r, y - (r * 0.8), x + r, y - (r * 0.8), x, y + (r * 0.95)], z, TrainId.TrafficSign, red, depth);
                BPolygon([x - (r * 0.68), y - (r * 0.6), x + (r * 0.68), y - (r * 0.6), x, y + (r * 0.55)], z - 0.01, TrainId.TrafficSign, white, depth);
                break;
            case 3:
                BRect(x - (r * 1.2), x + (r * 1.2), y - (r * 0.75), y + (r * 0.75), z, TrainId.TrafficSign, blue, depth);
                BRect(x - (r * 0.2), x + (r * 0.2), y - (r * 0.5), y + (r * 0.5), z - 0.01, TrainId.TrafficSign, white, depth);
                break;
            case 4:
                BPolygon([x, y - r, x + r, y, x, y + r, x - r, y], z, TrainId.TrafficSign, dark, depth);
                BPolygon([x, y - (r * 0.82), x + (r * 0.82), y, x, y + (r * 0.82), x - (r * 0.82), y], z - 0.01, TrainId.TrafficSign, yellow, depth);
                break;
            default:
                {
                    Span<double> oct = stackalloc double[16];
                    for (var i = 0; i < 8; i++)
                    {
                        var a = (Math.PI / 8) + (i * Math.PI / 4);
                        oct[2 * i] = x + (r * Math.Cos(a));
                        oct[(2 * i) + 1] = y + (r * Math.Sin(a));
                    }

                    BPolygon(oct, z, TrainId.TrafficSign, red, depth);
                    BRect(x - (r * 0.6), x + (r * 0.6), y - (r * 0.12), y + (r * 0.12), z - 0.01, TrainId.TrafficSign, white, depth);
                    break;
                }
        }
    }

    /// <summary>Signs are retro-reflective: they stay readable in the dark.</summary>
    private Paint SignPaint(Bgr c)
    {
        var a = _scene.Ambient;
        return new Paint(c.B * Math.Max(a.B, 0.55), c.G * Math.Max(a.G, 0.55), c.R * Math.Max(a.R, 0.55), 5);
    }

    private void DrawTree(Prop p)
    {
        var depth = (float)p.Z;
        var trunk = Lit(p.Colour2, 10);
        var trunkHalf = 0.12 + (p.Size * 0.03);
        BRect(p.X - trunkHalf, p.X + trunkHalf, 0, p.Height * 0.6, p.Z, TrainId.Vegetation, trunk, depth, 1.0);
        var leaf = Lit(p.Colour, 34);
        var shade = Lit(p.Colour.Scale(0.7), 34);
        var h = SceneRandom.Mix((ulong)p.Variant);
        var cy = p.Height * 0.72;
        for (var i = 0; i < 5; i++)
        {
            h = SceneRandom.Mix(h + (ulong)i);
            var ox = (((h & 0xFF) / 255.0) - 0.5) * p.Size * 0.9;
            var oy = ((((h >> 8) & 0xFF) / 255.0) - 0.5) * p.Size * 0.7;
            var rr = p.Size * (0.5 + (((h >> 16) & 0xFF) / 255.0 * 0.35));
            BEllipse(p.X + ox, cy + oy, rr, rr * 0.9, p.Z - 0.02, TrainId.Vegetation, i < 2 ? shade : leaf, depth);
        }
    }

    // ---- vehicles ----

    private void DrawVehicleShadows(double t)
    {
        if (_scene.Light == LightMode.Night)
        {
            return;
        }

        var factor = _scene.Overcast ? 170 : 120;
        var shift = _scene.SunSide * -0.35;
        foreach (var m in _scene.Movers)
        {
            if (m.Kind == MoverKind.Pedestrian)
            {
                continue;
            }

            var p = m.Position(t);
            var (x0, x1, z0, z1) = m.AlongX
                ? (p, p + m.Length, m.Fixed - (m.Width / 2), m.Fixed + (m.Width / 2))
                : (m.Fixed - (m.Width / 2), m.Fixed + (m.Width / 2), p, p + m.Length);
            if (z0 < NearClip)
            {
                continue;
            }

            x0 += shift - 0.1;
            x1 += shift + 0.1;
            var poly = _poly.AsSpan(0, 4);
            poly[0] = Project(x0, 0, z0 - 0.1);
            poly[1] = Project(x1, 0, z0 - 0.1);
            poly[2] = Project(x1, 0, z1 + 0.1);
            poly[3] = Project(x0, 0, z1 + 0.1);
            _canvas.ShadePolygon(poly, factor, GroundMask);
        }
    }

    private void DrawMovers(double t)
    {
        foreach (var m in _scene.Movers)
        {
            var p = m.Position(t);
            if (m.Kind == MoverKind.Pedestrian)
            {
                DrawPedestrian(m, p, t);
            }
            else
            {
                DrawVehicle(m, p, rider: m.Kind is MoverKind.Bicycle or MoverKind.Motorcycle);
            }
        }
    }

    /// <summary>
    /// Maps a point in the vehicle's own frame (a: metres from its rear along its heading, b: metres to
    /// its left-hand side, y: height) to the world, for a vehicle whose rear or front (the end nearer the origin of its axis) is at Start.
    /// </summary>
    private readonly record struct VehicleFrame(bool AlongX, double Start, double Fixed, double Length, bool Forward)
    {
        public (double X, double Y, double Z) World(double a, double b, double y)
        {
            var along = Forward ? Start + a : Start + Length - a;
            return AlongX ? (along, y, Fixed + b) : (Fixed + b, y, along);
        }
    }

    private void DrawVehicle(Mover m, double start, bool rider = false)
    {
        var forward = m.Speed >= 0;
        var vf = new VehicleFrame(m.AlongX, start, m.Fixed, m.Length, forward);
        var nearZ = m.AlongX ? m.Fixed - (m.Width / 2) : start;
        if (nearZ < NearClip + 0.5)
        {
            return;
        }

        var depth = (float)nearZ;
        var l = m.Length;
        var w = m.Width / 2;
        var h = m.Height;
        var body = Lit(m.Colour, 7);
        var glass = Lit(new Bgr(80, 62, 55), 5);
        var tyre = Lit(TyreColour, 6);
        var hub = Lit(HubColour, 6);
        var roof = Lit(m.Colour.Scale(1.08), 6);
        var label = m.Kind switch
        {
            MoverKind.Car => TrainId.Car,
            MoverKind.Truck => TrainId.Truck,
            MoverKind.Bus => TrainId.Bus,
            MoverKind.Motorcycle => TrainId.Motorcycle,
            _ => TrainId.Bicycle,
        };

        switch (m.Kind)
        {
            case MoverKind.Car:
                {
                    Box(vf, 0, l, -w, w, 0.3, h * 0.6, label, body, body, roof, depth);
                    var c0 = m.Variant % 2 == 0 ? 0.22 : 0.1;
                    Box(vf, l * c0, l * 0.78, -w + 0.12, w - 0.12, h * 0.6, h, label, glass, glass, roof, depth);
                    Wheels(vf, [0.2 * l, 0.8 * l], 0.32, w, label, tyre, hub, depth);
                    EndDetails(vf, w, h * 0.6, label, depth, truckLike: false);
                    break;
                }

            case MoverKind.Truck:
                {
                    var cab = Lit(m.Colour2, 7);
                    var cabLen = 2.3;
                    Box(vf, 0, l - cabLen - 0.2, -w, w, 0.5, 0.95, label, tyre, tyre, tyre, depth);
                    // Far box first: equal depths let the later one win, which is the nearer part.
                    var cabFirst = vf.World(l, 0, 0).Z > vf.World(0, 0, 0).Z || m.AlongX;
                    if (cabFirst)
                    {
                        Box(vf, l - cabLen, l, -w + 0.05, w - 0.05, 0.45, h * 0.82, label, cab, cab, cab, depth);
                        Box(vf, 0, l - cabLen - 0.15, -w, w, 0.95, h, label, body, body, roof, depth);
                    }
                    else
                    {
                        Box(vf, 0, l - cabLen - 0.15, -w, w, 0.95, h, label, body, body, roof, depth);
                        Box(vf, l - cabLen, l, -w + 0.05, w - 0.05, 0.45, h * 0.82, label, cab, cab, cab, depth);
                    }

                    FacePoly(vf, Face.Front, l, [(-w + 0.2, h * 0.5), (w - 0.2, h * 0.5), (w - 0.2, (h * 0.82) - 0.2), (-w + 0.2, (h * 0.82) - 0.2)], label, glass, depth);
                    FacePoly(vf, Face.Left, w - 0.05, [(l - cabLen + 0.3, h * 0.5), (l - 0.3, h * 0.5), (l - 0.3, (h * 0.82) - 0.2), (l - cabLen + 0.3, (h * 0.82) - 0.2)], label, glass, depth);
                    FacePoly(vf, Face.Right, -w + 0.05, [(l - cabLen + 0.3, h * 0.5), (l - 0.3, h * 0.5), (l - 0.3, (h * 0.82) - 0.2), (l - cabLen + 0.3, (h * 0.82) - 0.2)], label, glass, depth);
                    Wheels(vf, [0.15 * l, 0.3 * l, l - 1.4], 0.5, w, label, tyre, hub, depth);
                    EndDetails(vf, w, 0.95, label, depth, truckLike: true);
                    break;
                }

            case MoverKind.Bus:
                {
                    Box(vf, 0, l, -w, w, 0.35, h, label, body, body, roof, depth);
                    var band0 = 1.25;
                    var band1 = h - 0.45;
                    FacePoly(vf, Face.Left, w, [(1.0, band0), (l - 0.6, band0), (l - 0.6, band1), (1.0, band1)], label, glass, depth);
                    FacePoly(vf, Face.Right, -w, [(1.0, band0), (l - 0.6, band0), (l - 0.6, band1), (1.0, band1)], label, glass, depth);
                    FacePoly(vf, Face.Front, l, [(-w + 0.15, 1.0), (w - 0.15, 1.0), (w - 0.15, h - 0.55), (-w + 0.15, h - 0.55)], label, glass, depth);
                    var display = IsDark ? Emit(new Bgr(40, 170, 255), 6) : Lit(new Bgr(30, 30, 30), 4);
                    FacePoly(vf, Face.Front, l, [(-w + 0.3, h - 0.45), (w - 0.3, h - 0.45), (w - 0.3, h - 0.15), (-w + 0.3, h - 0.15)], label, display, depth);
                    FacePoly(vf, Face.Rear, 0, [(-w + 0.3, h - 1.3), (w - 0.3, h - 1.3), (w - 0.3, h - 0.5), (-w + 0.3, h - 0.5)], label, glass, depth);
                    Wheels(vf, [2.4, l - 3.0], 0.5, w, label, tyre, hub, depth);
                    EndDetails(vf, w, 1.0, label, depth, truckLike: true);
                    break;
                }

            case MoverKind.Motorcycle:
                {
                    Profile(vf, m, label, body, tyre, hub, depth, motor: true);
                    Box(vf, 0.45, l - 0.5, -0.2, 0.2, 0.4, 0.85, label, body, body, body, depth);
                    FacePoly(vf, Face.Rear, 0.1, [(-0.09, 0), (0.09, 0), (0.09, 0.62), (-0.09, 0.62)], label, tyre, depth);
                    FacePoly(vf, Face.Front, l - 0.1, [(-0.08, 0), (0.08, 0), (0.08, 0.62), (-0.08, 0.62)], label, tyre, depth);
                    FacePoly(vf, Face.Front, l - 0.45, [(-0.38, 0.98), (0.38, 0.98), (0.38, 1.06), (-0.38, 1.06)], label, tyre, depth);
                    if (rider)
                    {
                        DrawRider(m, vf, motor: true, depth - 0.05f);
                    }

                    break;
                }

            default:
                {
                    Profile(vf, m, label, body, tyre, hub, depth, motor: false);
                    FacePoly(vf, Face.Rear, 0.25, [(-0.05, 0), (0.05, 0), (0.05, 0.68), (-0.05, 0.68)], label, tyre, depth);
                    FacePoly(vf, Face.Front, l - 0.25, [(-0.05, 0), (0.05, 0), (0.05, 0.68), (-0.05, 0.68)], label, tyre, depth);
                    FacePoly(vf, Face.Front, l - 0.45, [(-0.3, 0.98), (0.3, 0.98), (0.3, 1.04), (-0.3, 1.04)], label, body, depth);
                    if (rider)
                    {
                        DrawRider(m, vf, motor: false, depth - 0.05f);
                    }

                    break;
                }
        }
    }

    private enum Face
    {
        Rear,
        Front,
        Left,
        Right,
    }

    /// <summary>
    /// Fills a polygon lying on one of the vehicle's faces (plane a = <paramref name="at"/> for rear/front,
    /// b = <paramref name="at"/> for the sides), given in (b, y) or (a, y), if that face looks towards the camera.
    /// </summary>
    private void FacePoly(VehicleFrame vf, Face face, double at, ReadOnlySpan<(double U, double Y)> pts, byte label, in Paint paint, float depth)
    {
        if (!FaceVisible(vf, face, at))
        {
            return;
        }

        var poly = _poly.AsSpan(0, pts.Length);
        for (var i = 0; i < pts.Length; i++)
        {
            var (u, y) = pts[i];
            var (x, yy, z) = face is Face.Rear or Face.Front ? vf.World(at, u, y) : vf.World(u, at, y);
            if (z < NearClip)
            {
                return;
            }

            poly[i] = Project(x, yy, z);
        }

        _canvas.FillPolygon(poly, label, paint, depth);
    }

    /// <summary>Whether the camera is on the outer side of a face's plane.</summary>
    private bool FaceVisible(VehicleFrame vf, Face face, double at)
    {
        var (px, _, pz) = face is Face.Rear or Face.Front ? vf.World(at, 0, 0) : vf.World(0, at, 0);
        var (qx, _, qz) = face switch
        {
            Face.Rear => vf.World(at - 1, 0, 0),
            Face.Front => vf.World(at + 1, 0, 0),
            Face.Left => vf.World(0, at + 1, 0),
            _ => vf.World(0, at - 1, 0),
        };
        var nx = qx - px;
        var nz = qz - pz;
        return ((_camX - px) * nx) + ((0 - pz) * nz) > 0;
    }

    /// <summary>An axis-aligned box in the vehicle frame: its visible faces (at most three) as polygons.</summary>
    private void Box(VehicleFrame vf, double a0, double a1, double b0, double b1, double y0, double y1, byte label, in Paint ends, in Paint sides, in Paint top, float depth)
    {
        FacePoly(vf, Face.Rear, a0, [(b0, y0), (b1, y0), (b1, y1), (b0, y1)], label, ends, depth);
        FacePoly(vf, Face.Front, a1, [(b0, y0), (b1, y0), (b1, y1), (b0, y1)], label, ends, depth);
        FacePoly(vf, Face.Left, b1, [(a0, y0), (a1, y0), (a1, y1), (a0, y1)], label, sides, depth);
        FacePoly(vf, Face.Right, b0, [(a0, y0), (a1, y0), (a1, y1), (a0, y1)], label, sides, depth);
        if (_hc > y1)
        {
            var poly = _poly.AsSpan(0, 4);
            ReadOnlySpan<(double A, double B)> corners = [(a0, b0), (a1, b0), (a1, b1), (a0, b1)];
            for (var i = 0; i < 4; i++)
            {
                var (x, y, z) = vf.World(corners[i].A, corners[i].B, y1);
                if (z < NearClip)
                {
                    return;
                }

                poly[i] = Project(x, y, z);
            }

            _canvas.FillPolygon(poly, label, top, depth);
        }
    }

    private void Wheels(VehicleFrame vf, ReadOnlySpan<double> centres, double radius, double halfWidth, byte label, in Paint tyre, in Paint hub, float depth)
    {
        Span<(double, double)> ring = stackalloc (double, double)[12];
        foreach (var side in (ReadOnlySpan<double>)[halfWidth + 0.01, -halfWidth - 0.01])
        {
            var face = side > 0 ? Face.Left : Face.Right;
            foreach (var c in centres)
            {
                Circle(ring, c, radius, radius);
                FacePoly(vf, face, side, ring, label, tyre, depth);
                Circle(ring, c, radius, radius * 0.55);
                FacePoly(vf, face, side, ring, label, hub, depth);
            }
        }

        // Seen from behind or ahead, the tyres show below the body at both corners.
        foreach (var at in (ReadOnlySpan<double>)[0.0, vf.Length])
        {
            var face = at == 0 ? Face.Rear : Face.Front;
            FacePoly(vf, face, at, [(-halfWidth, 0), (-halfWidth + 0.28, 0), (-halfWidth + 0.28, radius), (-halfWidth, radius)], label, tyre, depth);
            FacePoly(vf, face, at, [(halfWidth - 0.28, 0), (halfWidth, 0), (halfWidth, radius), (halfWidth - 0.28, radius)], label, tyre, depth);
        }
    }

    private static void Circle(Span<(double, double)> ring, double cu, double cy, double r)
    {
        for (var i = 0; i < ring.Length; i++)
        {
            var a = i * 2 * Math.PI / ring.Length;
            ring[i] = (cu + (r * Math.Cos(a)), cy + (r * Math.Sin(a)));
        }
    }

    /// <summary>Lamps and number plate on the rear and front faces.</summary>
    private void EndDetails(VehicleFrame vf, double w, double bodyTop, byte label, float depth, bool truckLike)
    {
        var tail = IsDark ? Emit(new Bgr(40, 40, 255), 6) : Lit(new Bgr(30, 30, 170), 6);
        var head = IsDark ? Emit(new Bgr(230, 250, 255), 6) : Lit(new Bgr(200, 210, 215), 6);
        var plate = Lit(new Bgr(225, 225, 225), 4);
        var ly = truckLike ? 0.6 : bodyTop - 0.2;
        FacePoly(vf, Face.Rear, 0, [(-w + 0.08, ly - 0.1), (-w + 0.38, ly - 0.1), (-w + 0.38, ly + 0.05), (-w + 0.08, ly + 0.05)], label, tail, depth);
        FacePoly(vf, Face.Rear, 0, [(w - 0.38, ly - 0.1), (w - 0.08, ly - 0.1), (w - 0.08, ly + 0.05), (w - 0.38, ly + 0.05)], label, tail, depth);
        FacePoly(vf, Face.Rear, 0, [(-0.25, ly - 0.3), (0.25, ly - 0.3), (0.25, ly - 0.18), (-0.25, ly - 0.18)], label, plate, depth);
        FacePoly(vf, Face.Front, vf.Length, [(-w + 0.1, ly - 0.1), (-w + 0.4, ly - 0.1), (-w + 0.4, ly + 0.04), (-w + 0.1, ly + 0.04)], label, head, depth);
        FacePoly(vf, Face.Front, vf.Length, [(w - 0.4, ly - 0.1), (w - 0.1, ly - 0.1), (w - 0.1, ly + 0.04), (w - 0.4, ly + 0.04)], label, head, depth);
    }

    /// <summary>A two-wheeler's side profile in its centre plane: wheels, frame or engine block.</summary>
    private void Profile(VehicleFrame vf, Mover m, byte label, in Paint body, in Paint tyre, in Paint hub, float depth, bool motor)
    {
        var l = m.Length;
        var r = motor ? 0.31 : 0.34;
        var rearHub = r + 0.02;
        var frontHub = l - r - 0.02;
        Span<(double, double)> ring = stackalloc (double, double)[12];
        var face = FaceVisible(vf, Face.Left, 0) ? Face.Left : Face.Right;
        foreach (var c in (ReadOnlySpan<double>)[rearHub, frontHub])
        {
            Circle(ring, c, r, r);
            FacePoly(vf, face, 0, ring, label, tyre, depth);
            Circle(ring, c, r, r * (motor ? 0.55 : 0.8));
            FacePoly(vf, face, 0, ring, label, hub, depth);
        }

        var mid = l / 2;
        if (motor)
        {
            FacePoly(vf, face, 0, [(rearHub, r + 0.1), (frontHub - 0.25, r), (frontHub - 0.1, 0.85), (mid - 0.1, 0.95), (rearHub - 0.05, 0.8)], label, body, depth);
            FacePoly(vf, face, 0, [(mid - 0.4, 0.82), (mid + 0.35, 0.82), (mid + 0.35, 0.98), (mid - 0.4, 0.98)], label, Lit(new Bgr(25, 25, 25), 4), depth);
        }
        else
        {
            const double T = 0.04;
            var bracket = (mid, r * 0.9);
            var seat = (mid - 0.18, 0.95);
            var headTube = (frontHub - 0.12, 0.92);
            Bar(vf, face, (rearHub, r), bracket, T, label, body, depth);
            Bar(vf, face, (rearHub, r), seat, T, label, body, depth);
            Bar(vf, face, bracket, seat, T, label, body, depth);
            Bar(vf, face, bracket, headTube, T, label, body, depth);
            Bar(vf, face, seat, headTube, T, label, body, depth);
            Bar(vf, face, headTube, (frontHub, r), T, label, body, depth);
            Bar(vf, face, (seat.Item1 - 0.12, seat.Item2 + 0.04), (seat.Item1 + 0.1, seat.Item2 + 0.04), 0.035, label, Lit(new Bgr(25, 25, 25), 4), depth);
            Bar(vf, face, headTube, (headTube.Item1 - 0.05, headTube.Item2 + 0.12), T, label, body, depth);
        }
    }

    private void Bar(VehicleFrame vf, Face face, (double A, double Y) p, (double A, double Y) q, double hw, byte label, in Paint paint, float depth)
    {
        var da = q.A - p.A;
        var dy = q.Y - p.Y;
        var len = Math.Sqrt((da * da) + (dy * dy));
        if (len < 1e-9)
        {
            return;
        }

        var na = -dy / len * hw;
        var ny = da / len * hw;
        FacePoly(vf, face, 0, [(p.A + na, p.Y + ny), (q.A + na, q.Y + ny), (q.A - na, q.Y - ny), (p.A - na, p.Y - ny)], label, paint, depth);
    }
}
