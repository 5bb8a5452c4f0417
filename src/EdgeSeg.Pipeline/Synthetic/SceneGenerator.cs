namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>Builds the fixed part of a street scene from a seed.</summary>
internal static class SceneGenerator
{
    private static readonly Bgr[] CarPaints =
    [
        new(235, 235, 235), new(30, 30, 30), new(175, 175, 170), new(120, 120, 115), new(40, 40, 190),
        new(150, 70, 30), new(60, 40, 20), new(40, 120, 40), new(30, 160, 220), new(200, 200, 210),
        new(90, 100, 110), new(50, 60, 130), new(20, 20, 90), new(160, 120, 60),
    ];

    private static readonly Bgr[] FacadeColours =
    [
        new(170, 190, 205), new(140, 150, 160), new(60, 80, 150), new(200, 205, 210), new(100, 110, 125),
        new(110, 140, 170), new(80, 95, 120), new(150, 165, 185), new(120, 120, 120), new(175, 170, 160),
        new(70, 70, 100), new(185, 200, 215),
    ];

    private static readonly Bgr[] Clothes =
    [
        new(40, 40, 40), new(120, 60, 30), new(30, 30, 140), new(180, 180, 180), new(60, 100, 40),
        new(90, 60, 60), new(20, 90, 160), new(140, 130, 40), new(200, 200, 200), new(60, 60, 90),
        new(130, 40, 110), new(30, 140, 200),
    ];

    private static readonly Bgr[] Skins =
    [
        new(150, 180, 225), new(120, 150, 200), new(90, 120, 170), new(60, 85, 130), new(45, 60, 95),
    ];

    /// <summary>
    /// Adds a scripted queue: <paramref name="script"/>'s cars drive towards the camera in the lane nearest
    /// to it, stop one behind the other at a stop line, stand, and drive on. That lane and the cross street
    /// are cleared of other vehicles so that the queue is the only thing that changes the lane.
    /// </summary>
    public static QueueGeometry AddQueue(StreetScene scene, QueueScript script, long seed)
    {
        var r = new SceneRandom(seed, 0x9E3779B9UL);
        var look = r.Fork(1);
        double? laneX = null;
        for (var lane = 0; lane < scene.Lanes; lane++)
        {
            var x = (-scene.Lanes * scene.LaneWidth / 2) + ((lane + 0.5) * scene.LaneWidth);
            var away = x > 0 ^ scene.LeftHandTraffic;
            if (!away && (laneX is null || Math.Abs(x - scene.CameraX) < Math.Abs(laneX.Value - scene.CameraX)))
            {
                laneX = x;
            }
        }

        var centre = laneX ?? (-scene.Lanes * scene.LaneWidth / 2) + (scene.LaneWidth / 2);
        scene.Movers.RemoveAll(m => m.Kind != MoverKind.Pedestrian && (m.AlongX || Math.Abs(m.Fixed - centre) < scene.LaneWidth / 2));
        const double StopLine = 14, Gap = 2.0;
        var speed = -Math.Abs(script.Speed);
        var at = StopLine;
        for (var k = 0; k < script.Cars; k++)
        {
            var car = Vehicle(MoverKind.Car, r, look, centre, 0, speed, false, 0, 1);
            scene.Movers.Add(new Mover
            {
                Kind = car.Kind, Fixed = car.Fixed, Speed = speed, Min = 0, Max = 1,
                Width = car.Width, Length = car.Length, Height = car.Height,
                Colour = car.Colour, Colour2 = car.Colour2, Colour3 = car.Colour3, Skin = car.Skin, Variant = car.Variant,
                Stop = (at, script.FormsAt + (k * script.Interval), script.DissolvesAt + (k * script.LeaveInterval)),
            });
            at += car.Length + Gap;
        }

        return new QueueGeometry(centre - scene.CameraX - (scene.LaneWidth / 2), centre - scene.CameraX + (scene.LaneWidth / 2), StopLine, at - Gap);
    }

    public static StreetScene Generate(long seed)
    {
        var rng = new SceneRandom(seed, 0x5713EE7UL);
        var layout = rng.Fork(1);
        var look = rng.Fork(2);

        // Two, three or four lanes (the index is the lane count).
        var lanes = layout.Pick([0, 0, 3, 1.5, 3]);
        var laneWidth = layout.Range(3.0, 3.6);
        var parking = new[] { layout.Chance(0.45) ? layout.Range(2.0, 2.5) : 0, layout.Chance(0.45) ? layout.Range(2.0, 2.5) : 0 };
        var sidewalk = new[] { layout.Range(2.0, 5.0), layout.Range(2.0, 5.0) };
        var verge = new[] { layout.Chance(0.4) ? layout.Range(0.8, 3.0) : 0, layout.Chance(0.4) ? layout.Range(0.8, 3.0) : 0 };
        var roadHalf = lanes * laneWidth / 2;

        var light = (LightMode)look.Pick([0.6, 0.22, 0.18]);
        var (ambient, horizon, zenith) = Lighting(light, look);
        var overcast = light == LightMode.Day && look.Chance(0.3);
        if (overcast)
        {
            var grey = look.Range(170, 215);
            horizon = new Bgr(grey + 8, grey + 4, grey);
            zenith = new Bgr(grey - 20, grey - 24, grey - 28);
            ambient = ambient.Scale(0.85);
        }

        double intersection0 = 0, intersection1 = 0, zebra0 = 0, zebra1 = 0;
        if (layout.Chance(0.65))
        {
            intersection0 = layout.Range(22, 70);
            intersection1 = intersection0 + layout.Range(10, 18);
            if (layout.Chance(0.8))
            {
                zebra1 = intersection0 - 1.0;
                zebra0 = zebra1 - layout.Range(3, 5);
            }
        }
        else if (layout.Chance(0.6))
        {
            zebra0 = layout.Range(20, 50);
            zebra1 = zebra0 + layout.Range(3, 5);
        }

        // A traffic camera: high up, looking along the street, sometimes from above a sidewalk.
        var cameraHeight = layout.Range(4.5, 9.5);
        var cameraX = layout.Range(-roadHalf - parking[0] - (sidewalk[0] * 0.6), roadHalf + parking[1] + (sidewalk[1] * 0.6));

        var scene = new StreetScene
        {
            FocalOverWidth = layout.Range(0.75, 1.15),
            CentreXOverWidth = 0.5 + layout.Range(-0.12, 0.12),
            HorizonOverHeight = layout.Range(0.22, 0.45),
            CameraHeight = cameraHeight,
            CameraX = cameraX,
            Lanes = lanes,
            LaneWidth = laneWidth,
            Parking = parking,
            Sidewalk = sidewalk,
            Verge = verge,
            CurbWidth = layout.Range(0.2, 0.35),
            LeftHandTraffic = layout.Chance(0.25),
            IntersectionZ0 = intersection0,
            IntersectionZ1 = intersection1,
            ZebraZ0 = zebra0,
            ZebraZ1 = zebra1,
            YellowCentre = layout.Chance(0.3),
            Asphalt = Grey(look.Range(60, 115), look.Range(-6, 10)),
            Paving = Tint(Grey(look.Range(125, 185), 0), look.Range(-12, 12), look),
            Curb = Grey(look.Range(150, 205), 0),
            Grass = look.Chance(0.75)
                ? new Bgr(look.Range(40, 80), look.Range(120, 170), look.Range(80, 140))
                : new Bgr(look.Range(60, 90), look.Range(110, 140), look.Range(130, 165)),
            Marking = look.Chance(0.85) ? Grey(look.Range(200, 240), 0) : Grey(look.Range(150, 190), 0),
            Light = light,
            Ambient = ambient,
            SkyHorizon = horizon,
            SkyZenith = zenith,
            Overcast = overcast,
            SunSide = light == LightMode.Night || overcast ? 0 : (look.Chance(0.5) ? -1 : 1),
            ShadowLength = light == LightMode.Dusk ? look.Range(1.0, 2.5) : look.Range(0.2, 1.2),
            SensorNoise = light == LightMode.Night ? look.Range(3, 10) : look.Range(1, 6),
            BlurSigma = look.Chance(0.5) ? look.Range(0.3, 1.1) : 0,
            JpegQuality = look.Chance(0.7) ? look.Int(35, 92) : 0,
        };

        if (light == LightMode.Day && !overcast)
        {
            var clouds = look.Int(0, 6);
            for (var i = 0; i < clouds; i++)
            {
                scene.Clouds.Add((look.Range(-0.1, 1.1), look.Range(0.05, 0.8), look.Range(0.05, 0.18), look.Range(0.03, 0.09)));
            }
        }

        for (var side = 0; side < 2; side++)
        {
            BuildSide(scene, side, rng.Fork(10 + (ulong)side), look);
        }

        BuildBackdrop(scene, rng.Fork(20), look);
        BuildProps(scene, rng.Fork(30), look);
        BuildTraffic(scene, rng.Fork(40), look);
        BuildPeople(scene, rng.Fork(50), look);
        return scene;
    }

    private static (Bgr Ambient, Bgr Horizon, Bgr Zenith) Lighting(LightMode mode, SceneRandom r) => mode switch
    {
        LightMode.Day => (
            DayAmbient(r),
            new Bgr(r.Range(215, 245), r.Range(200, 225), r.Range(170, 205)),
            new Bgr(r.Range(200, 235), r.Range(130, 165), r.Range(70, 110))),
        LightMode.Dusk => (
            new Bgr(r.Range(0.4, 0.55), r.Range(0.5, 0.65), r.Range(0.7, 0.85)),
            new Bgr(r.Range(70, 130), r.Range(130, 175), r.Range(200, 245)),
            new Bgr(r.Range(110, 150), r.Range(60, 90), r.Range(60, 100))),
        _ => (
            new Bgr(r.Range(0.2, 0.3), r.Range(0.17, 0.25), r.Range(0.15, 0.22)),
            new Bgr(r.Range(40, 60), r.Range(35, 50), r.Range(30, 45)),
            new Bgr(r.Range(15, 30), r.Range(8, 18), r.Range(5, 12))),
    };

    /// <summary>Daylight: a random level with a slightly cooler or warmer blue channel.</summary>
    private static Bgr DayAmbient(SceneRandom r)
    {
        var level = r.Range(0.85, 1.15);
        var blue = r.Range(0.88, 1.12);
        return new Bgr(blue, level, level);
    }

    private static void BuildSide(StreetScene scene, int side, SceneRandom r, SceneRandom look)
    {
        var property = scene.PropertyLine(side);
        var z = 0.0;
        var inter0 = scene.IntersectionZ0;
        var inter1 = scene.IntersectionZ1;
        var kindWeights = new[] { r.Range(4, 8), r.Range(0.5, 2), r.Range(0.5, 2), r.Range(0.5, 2), r.Range(0.5, 1.5) };
        while (z < StreetScene.SegmentEnd)
        {
            if (scene.HasIntersection && z >= inter0 - 0.01 && z < inter1)
            {
                z = inter1;
                continue;
            }

            var length = r.Range(8, 38);
            var z1 = Math.Min(z + length, StreetScene.SegmentEnd);
            if (scene.HasIntersection && z < inter0 && z1 > inter0)
            {
                z1 = inter0;
            }

            // 0: building at the property line, 1: park, 2: fenced yard, 3: walled yard, 4: hedge.
            var kind = r.Pick(kindWeights);
            var setback = kind == 0 ? (r.Chance(0.7) ? 0 : r.Range(0.5, 4)) : r.Range(6, 30);
            var barrier = kind switch
            {
                2 => BarrierKind.Fence,
                3 => BarrierKind.Wall,
                4 => BarrierKind.Hedge,
                1 => r.Chance(0.3) ? BarrierKind.Fence : BarrierKind.None,
                _ => BarrierKind.None,
            };
            var hasBuilding = kind != 1 || r.Chance(0.6);
            var facade = FacadeColours[r.Int(0, FacadeColours.Length)];
            var glass = r.Chance(0.5) ? new Bgr(r.Range(90, 140), r.Range(70, 100), r.Range(50, 80)) : Grey(r.Range(40, 80), 6);
            scene.Segments[side].Add(new SideSegment
            {
                Z0 = z,
                Z1 = z1,
                HasBuilding = hasBuilding,
                FacadeX = property + setback,
                BuildingHeight = r.Range(7, 32),
                BuildingColour = Tint(facade, r.Range(-15, 15), look),
                WindowColour = glass,
                WindowPitchZ = r.Range(2.5, 4.5),
                WindowWidth = r.Range(0.9, 2.0),
                FloorHeight = r.Range(2.9, 3.6),
                WindowHeight = r.Range(1.2, 1.9),
                LitWindowShare = scene.Light == LightMode.Night ? r.Range(0.2, 0.7) : scene.Light == LightMode.Dusk ? r.Range(0.05, 0.3) : 0,
                PavedYard = kind == 0 || r.Chance(0.25),
                Barrier = barrier,
                BarrierX = property + r.Range(0, 1.0),
                BarrierHeight = barrier switch
                {
                    BarrierKind.Fence => r.Range(1.0, 2.2),
                    BarrierKind.Wall => r.Range(0.8, 2.6),
                    BarrierKind.Hedge => r.Range(0.8, 2.0),
                    _ => 0,
                },
                BarrierColour = barrier switch
                {
                    BarrierKind.Fence => r.Chance(0.5) ? new Bgr(r.Range(50, 80), r.Range(80, 120), r.Range(120, 160)) : Grey(r.Range(90, 170), r.Range(-5, 15)),
                    BarrierKind.Wall => Tint(Grey(r.Range(120, 190), 0), r.Range(-15, 15), r),
                    _ => new Bgr(r.Range(30, 55), r.Range(75, 110), r.Range(40, 65)),
                },
            });
            z = z1;
        }
    }

    private static void BuildBackdrop(StreetScene scene, SceneRandom r, SceneRandom look)
    {
        var x = -400.0;
        while (x < 400)
        {
            var w = r.Range(15, 60);
            var trees = r.Chance(0.3);
            var colour = trees
                ? new Bgr(r.Range(30, 60), r.Range(70, 110), r.Range(40, 70))
                : Tint(FacadeColours[r.Int(0, FacadeColours.Length)], r.Range(-20, 20), look).Scale(r.Range(0.75, 1.0));
            scene.Backdrop.Add(new BackdropBlock(x, x + w, trees ? r.Range(8, 18) : r.Range(10, 60), colour, trees));
            x += w;
        }
    }

    private static void BuildProps(StreetScene scene, SceneRandom r, SceneRandom look)
    {
        for (var side = 0; side < 2; side++)
        {
            var s = side == 0 ? -1 : 1;
            var curb = scene.CurbOuter(side);
            var poleX = s * (curb + r.Range(0.3, 0.7));
            var poleColour = r.Chance(0.6) ? Grey(r.Range(95, 150), 4) : new Bgr(r.Range(35, 60), r.Range(45, 70), r.Range(35, 55));

            // Street lamps at a regular spacing, some carrying a sign.
            var spacing = r.Range(18, 34);
            for (var z = r.Range(4, spacing); z < 170; z += spacing * r.Range(0.85, 1.15))
            {
                if (InIntersection(scene, z, 1.5))
                {
                    continue;
                }

                scene.Props.Add(new Prop
                {
                    Kind = PropKind.StreetLamp,
                    X = poleX,
                    Z = z,
                    Side = s,
                    Height = r.Range(6.5, 10),
                    Size = r.Range(0.1, 0.17),
                    Variant = r.Int(0, 2),
                    Colour = poleColour,
                    SignVariant = r.Chance(0.35) ? r.Int(0, 6) : -1,
                    Phase = r.Range(1.5, 3.0),
                });
            }

            // Sign poles and bollards in between.
            for (var z = r.Range(5, 20); z < 140; z += r.Range(9, 26))
            {
                if (InIntersection(scene, z, 0.5))
                {
                    continue;
                }

                var bollard = r.Chance(0.15);
                scene.Props.Add(new Prop
                {
                    Kind = bollard ? PropKind.Bollard : PropKind.SignPole,
                    X = s * (curb + r.Range(0.25, 0.9)),
                    Z = z,
                    Side = s,
                    Height = bollard ? r.Range(0.8, 1.1) : r.Range(2.2, 3.4),
                    Size = bollard ? r.Range(0.08, 0.14) : r.Range(0.05, 0.09),
                    Variant = r.Int(0, 6),
                    Colour = Grey(r.Range(110, 170), 0),
                    Phase = r.Range(0.55, 0.95),
                });
            }

            // Trees along the sidewalk and in parks.
            var treeLine = r.Chance(0.55);
            if (treeLine)
            {
                var treeX = s * (scene.SidewalkOuter(side) - r.Range(0.6, 1.2));
                for (var z = r.Range(3, 15); z < 200; z += r.Range(8, 16))
                {
                    if (!InIntersection(scene, z, 2))
                    {
                        AddTree(scene, r, treeX, z, s);
                    }
                }
            }

            foreach (var seg in scene.Segments[side])
            {
                if (seg.HasBuilding && seg.FacadeX - scene.PropertyLine(side) < 5)
                {
                    continue;
                }

                var count = (int)((seg.Z1 - seg.Z0) / r.Range(5, 10));
                var depthLimit = seg.HasBuilding ? seg.FacadeX - 2 : scene.PropertyLine(side) + 25;
                for (var i = 0; i < count; i++)
                {
                    var x = r.Range(scene.PropertyLine(side) + 1.5, Math.Max(scene.PropertyLine(side) + 2, depthLimit));
                    AddTree(scene, r, s * x, r.Range(seg.Z0, seg.Z1), s);
                }
            }

            // Parked cars along the parking strip.
            if (scene.Parking[side] > 0)
            {
                var x = s * ((scene.Lanes * scene.LaneWidth / 2) + (scene.Parking[side] / 2));
                for (var z = r.Range(2, 8); z < 130; z += r.Range(5.2, 9))
                {
                    if (InIntersection(scene, z, 6) || InZebra(scene, z, 6) || r.Chance(0.2))
                    {
                        continue;
                    }

                    var car = ParkedCar(r, look, x, z, s);
                    scene.Props.Add(car);
                    z += car.Size;
                }
            }

            // Parked bicycles, seen side-on as they stand across the sidewalk.
            var racks = r.Int(0, 3);
            for (var k = 0; k < racks; k++)
            {
                var z0 = r.Range(8, 60);
                var n = r.Int(1, 5);
                var x = s * (scene.SidewalkOuter(side) - r.Range(0.4, 1.0));
                for (var i = 0; i < n; i++)
                {
                    scene.Props.Add(new Prop
                    {
                        Kind = PropKind.ParkedBicycle,
                        X = x,
                        Z = z0 + (i * r.Range(0.5, 0.8)),
                        Side = s,
                        Size = r.Range(0.9, 1.1),
                        Colour = Clothes[r.Int(0, Clothes.Length)],
                        Variant = r.Int(0, 2),
                    });
                }
            }
        }

        // Traffic lights: at the intersection or crossing, else somewhere along the block.
        var lightZ = scene.HasIntersection ? scene.IntersectionZ0 - r.Range(0.5, 2.0)
            : scene.HasZebra ? scene.ZebraZ0 - r.Range(0.5, 1.5)
            : r.Range(20, 60);
        var housing = r.Chance(0.7) ? Grey(r.Range(20, 45), 0) : new Bgr(r.Range(10, 40), r.Range(150, 200), r.Range(200, 240));
        var state = r.Int(0, 3);
        for (var side = 0; side < 2; side++)
        {
            var s = side == 0 ? -1 : 1;
            var x = s * (scene.CurbOuter(side) + r.Range(0.3, 0.8));
            scene.Props.Add(new Prop
            {
                Kind = PropKind.TrafficLightPole,
                X = x,
                Z = lightZ + r.Range(-0.5, 0.5),
                Side = s,
                Height = r.Range(3.0, 4.2),
                Size = r.Range(0.07, 0.11),
                Variant = state,
                Colour = Grey(r.Range(60, 140), 0),
                Colour2 = housing,
                SignVariant = r.Chance(0.3) ? r.Int(0, 6) : -1,
            });
            if (r.Chance(0.6))
            {
                scene.Props.Add(new Prop
                {
                    Kind = PropKind.OverheadTrafficLight,
                    X = x,
                    Z = lightZ + r.Range(2, 4),
                    Side = s,
                    Height = r.Range(5.5, 7),
                    Size = r.Range(0.12, 0.18),
                    Variant = state,
                    Colour = Grey(r.Range(60, 140), 0),
                    Colour2 = housing,
                    Phase = r.Range(3, Math.Max(3.5, scene.Lanes * scene.LaneWidth * 0.7)),
                    SignVariant = r.Chance(0.5) ? r.Int(0, 6) : -1,
                });
            }
        }

        if (scene.HasIntersection && r.Chance(0.7))
        {
            // Lights on the far side of the intersection, facing the camera.
            for (var side = 0; side < 2; side++)
            {
                var s = side == 0 ? -1 : 1;
                scene.Props.Add(new Prop
                {
                    Kind = PropKind.TrafficLightPole,
                    X = s * (scene.CurbOuter(side) + r.Range(0.3, 0.8)),
                    Z = scene.IntersectionZ1 + r.Range(0.5, 2),
                    Side = s,
                    Height = r.Range(3.0, 4.2),
                    Size = r.Range(0.07, 0.11),
                    Variant = r.Int(0, 3),
                    Colour = Grey(r.Range(60, 140), 0),
                    Colour2 = housing,
                    SignVariant = r.Chance(0.3) ? r.Int(0, 6) : -1,
                });
            }
        }
    }

    private static void AddTree(StreetScene scene, SceneRandom r, double x, double z, int side) =>
        scene.Props.Add(new Prop
        {
            Kind = PropKind.Tree,
            X = x,
            Z = z,
            Side = side,
            Height = r.Range(4, 11),
            Size = r.Range(1.4, 3.2),
            Variant = r.Int(0, 1 << 20),
            Colour = new Bgr(r.Range(25, 60), r.Range(70, 125), r.Range(35, 75)),
            Colour2 = new Bgr(r.Range(30, 50), r.Range(45, 65), r.Range(60, 85)),
        });

    private static Prop ParkedCar(SceneRandom r, SceneRandom look, double x, double z, int side)
    {
        var paint = Tint(CarPaints[r.Int(0, CarPaints.Length)], r.Range(-10, 10), look);
        return new Prop
        {
            Kind = PropKind.ParkedCar,
            X = x,
            Z = z,
            Side = side,
            Height = r.Range(1.4, 1.65),
            Size = r.Range(4.0, 4.9),
            Variant = r.Int(0, 2),
            Colour = paint,
            Phase = r.Range(1.7, 1.9),
        };
    }

    private static void BuildTraffic(StreetScene scene, SceneRandom r, SceneRandom look)
    {
        const double Period = 190;
        for (var lane = 0; lane < scene.Lanes; lane++)
        {
            var x = (-scene.Lanes * scene.LaneWidth / 2) + ((lane + 0.5) * scene.LaneWidth);
            var away = x > 0 ^ scene.LeftHandTraffic;
            var speed = r.Range(5, 15) * (away ? 1 : -1);
            var count = r.Int(1, 5);
            var slot = Period / count;
            var outer = lane == 0 || lane == scene.Lanes - 1;
            for (var i = 0; i < count; i++)
            {
                var kind = outer
                    ? (MoverKind)r.Pick([5.0, 1.0, 1.0, 1.0, 0.8])
                    : (MoverKind)r.Pick([6.0, 1.0, 0.8, 0.8, 0]);
                var mover = Vehicle(kind, r, look, x + r.Range(-0.3, 0.3), (i * slot) + r.Range(0, slot * 0.4), kind is MoverKind.Bicycle ? speed * 0.4 : speed, false, 2, 2 + Period);
                scene.Movers.Add(mover);
            }
        }

        if (scene.HasIntersection)
        {
            // Cross traffic: one lane each way across the intersection, seen side-on.
            var width = scene.IntersectionZ1 - scene.IntersectionZ0;
            for (var dir = 0; dir < 2; dir++)
            {
                var z = dir == 0 ? scene.IntersectionZ0 + (width * 0.3) : scene.IntersectionZ0 + (width * 0.7);
                var speed = r.Range(5, 12) * (dir == 0 ? 1 : -1);
                var count = r.Int(1, 4);
                for (var i = 0; i < count; i++)
                {
                    var kind = (MoverKind)r.Pick([5.0, 1.2, 1.0, 1.2, 1.5]);
                    scene.Movers.Add(Vehicle(kind, r, look, z, (i * 240.0 / count) + r.Range(0, 30), kind is MoverKind.Bicycle ? speed * 0.4 : speed, true, -120, 120));
                }
            }
        }
    }

    private static Mover Vehicle(MoverKind kind, SceneRandom r, SceneRandom look, double fixedPos, double start, double speed, bool alongX, double min, double max)
    {
        var (w, l, h) = kind switch
        {
            MoverKind.Car => (r.Range(1.7, 1.95), r.Range(3.9, 4.9), r.Range(1.4, 1.65)),
            MoverKind.Truck => (r.Range(2.3, 2.55), r.Range(6.5, 10), r.Range(3.0, 3.8)),
            MoverKind.Bus => (r.Range(2.45, 2.55), r.Range(10.5, 13), r.Range(3.0, 3.4)),
            MoverKind.Motorcycle => (r.Range(0.7, 0.85), r.Range(1.9, 2.2), r.Range(1.1, 1.3)),
            _ => (r.Range(0.55, 0.65), r.Range(1.6, 1.8), r.Range(1.0, 1.1)),
        };
        var colour = kind switch
        {
            MoverKind.Car => CarPaints[r.Int(0, CarPaints.Length)],
            MoverKind.Truck => r.Chance(0.5) ? Grey(r.Range(200, 240), 0) : CarPaints[r.Int(0, CarPaints.Length)],
            MoverKind.Bus => r.Pick([1.0, 1.0, 1.0, 1.0]) switch
            {
                0 => new Bgr(40, 40, 200),
                1 => new Bgr(30, 190, 230),
                2 => new Bgr(170, 110, 40),
                _ => Grey(225, 0),
            },
            MoverKind.Motorcycle => CarPaints[r.Int(0, CarPaints.Length)].Scale(0.8),
            _ => Clothes[r.Int(0, Clothes.Length)],
        };
        return new Mover
        {
            Kind = kind,
            AlongX = alongX,
            Fixed = fixedPos,
            Start = start,
            Speed = speed,
            Min = min,
            Max = max,
            Width = w,
            Length = l,
            Height = h,
            Colour = Tint(colour, r.Range(-10, 10), look),
            Colour2 = kind == MoverKind.Truck ? CarPaints[r.Int(0, CarPaints.Length)] : Clothes[r.Int(0, Clothes.Length)],
            Colour3 = Clothes[r.Int(0, Clothes.Length)],
            Skin = Skins[r.Int(0, Skins.Length)],
            Variant = r.Int(0, 1 << 20),
        };
    }

    private static void BuildPeople(StreetScene scene, SceneRandom r, SceneRandom look)
    {
        for (var side = 0; side < 2; side++)
        {
            var s = side == 0 ? -1 : 1;
            var count = r.Int(2, 12);
            for (var i = 0; i < count; i++)
            {
                var x = s * r.Range(scene.CurbOuter(side) + 0.5, scene.SidewalkOuter(side) - 0.3);
                var standing = r.Chance(0.2);
                scene.Movers.Add(Person(r, look, x, r.Range(0, 120), standing ? 0 : r.Range(0.9, 1.7) * (r.Chance(0.5) ? 1 : -1), false, 3, 123));
            }
        }

        if (scene.HasZebra)
        {
            var count = r.Int(1, 6);
            var half = scene.RoadHalf(1) + 3;
            for (var i = 0; i < count; i++)
            {
                var z = r.Range(scene.ZebraZ0 + 0.4, scene.ZebraZ1 - 0.4);
                scene.Movers.Add(Person(r, look, z, r.Range(-half, half), r.Range(0.9, 1.6) * (r.Chance(0.5) ? 1 : -1), true, -half - 4, half + 4));
            }

            if (r.Chance(0.5))
            {
                var z = r.Range(scene.ZebraZ0 + 0.4, scene.ZebraZ1 - 0.4);
                scene.Movers.Add(Vehicle(MoverKind.Bicycle, r, look, z, r.Range(-half, half), r.Range(2.5, 5) * (r.Chance(0.5) ? 1 : -1), true, -half - 6, half + 6));
            }
        }
    }

    private static Mover Person(SceneRandom r, SceneRandom look, double fixedPos, double start, double speed, bool alongX, double min, double max) => new()
    {
        Kind = MoverKind.Pedestrian,
        AlongX = alongX,
        Fixed = fixedPos,
        Start = start,
        Speed = speed,
        Min = min,
        Max = max,
        Width = r.Range(0.4, 0.55),
        Length = r.Range(1.3, 1.6),
        Height = r.Range(1.55, 1.95),
        Colour = Tint(Clothes[r.Int(0, Clothes.Length)], r.Range(-15, 15), look),
        Colour2 = Tint(Clothes[r.Int(0, Clothes.Length)], r.Range(-15, 15), look),
        Colour3 = r.Chance(0.8) ? Grey(r.Range(20, 60), 0) : new Bgr(60, 140, 200),
        Skin = Skins[r.Int(0, Skins.Length)],
        Variant = r.Int(0, 1 << 20),
    };

    private static bool InIntersection(StreetScene scene, double z, double margin) =>
        scene.HasIntersection && z > scene.IntersectionZ0 - margin && z < scene.IntersectionZ1 + margin;

    private static bool InZebra(StreetScene scene, double z, double margin) =>
        scene.HasZebra && z > scene.ZebraZ0 - margin && z < scene.ZebraZ1 + margin;

    private static Bgr Grey(double v, double blueShift) => new(v + blueShift, v, v - (blueShift / 2));

    private static Bgr Tint(Bgr c, double amount, SceneRandom r)
    {
        var which = r.Int(0, 3);
        return which switch
        {
            0 => c with { B = c.B + amount },
            1 => c with { G = c.G + amount },
            _ => c with { R = c.R + amount },
        };
    }
}
