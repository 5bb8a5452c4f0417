namespace EdgeSeg.Pipeline.Synthetic;

/// <summary>Pedestrians and riders: flat figures standing in a plane of constant depth.</summary>
public sealed partial class StreetSceneRenderer
{
    private readonly record struct FigurePaints(Paint Top, Paint Legs, Paint Skin, Paint Hair);

    private FigurePaints PaintsOf(Mover m) => new(
        Lit(m.Colour, 10),
        Lit(m.Colour2, 10),
        Lit(m.Skin, 6),
        Lit(m.Colour3, 6));

    private void DrawPedestrian(Mover m, double p, double t)
    {
        var (x, z) = m.AlongX ? (p, m.Fixed) : (m.Fixed, p);
        if (z < NearClip + 0.5)
        {
            return;
        }

        var h = m.Height;
        var depth = (float)z;
        var paints = PaintsOf(m);
        var stride = 0.75 * h;
        var phase = m.Speed == 0 ? 0.15 * Math.Sin((t * 1.3) + m.Variant) : p / stride * Math.PI;
        var label = TrainId.Person;
        var s = Math.Sin(phase);

        if (m.AlongX)
        {
            // Side view: legs and arms swing in the direction of walking.
            var dir = m.Speed >= 0 ? 1.0 : -1.0;
            var swing = 0.45 * s;
            var hipY = 0.52 * h;
            var legLen = 0.52 * h;
            var f1 = (x + (dir * Math.Sin(swing) * legLen), hipY - (Math.Cos(swing) * legLen));
            var f2 = (x - (dir * Math.Sin(swing) * legLen), hipY - (Math.Cos(swing) * legLen));
            BLimb(x, hipY, f2.Item1, f2.Item2, 0.035 * h, z, label, paints.Legs, depth);
            BLimb(x, 0.79 * h, x + (dir * Math.Sin(swing) * 0.3 * h), 0.49 * h, 0.026 * h, z, label, paints.Top, depth);
            BLimb(x, hipY - (0.02 * h), x + (0.01 * dir * h), 0.83 * h, 0.085 * h, z, label, paints.Top, depth);
            BLimb(x, hipY, f1.Item1, f1.Item2, 0.035 * h, z, label, paints.Legs, depth);
            BLimb(x, 0.79 * h, x - (dir * Math.Sin(swing) * 0.3 * h), 0.49 * h, 0.026 * h, z, label, paints.Top, depth);
            Head(x + (0.01 * dir * h), 0.915 * h, h, z, label, paints, depth);
        }
        else
        {
            // Seen from in front or behind: legs side by side, feet lifting in turn.
            var lift1 = Math.Max(0, s) * 0.06 * h;
            var lift2 = Math.Max(0, -s) * 0.06 * h;
            BLimb(x - (0.055 * h), 0.53 * h, x - (0.06 * h), lift1, 0.04 * h, z, label, paints.Legs, depth);
            BLimb(x + (0.055 * h), 0.53 * h, x + (0.06 * h), lift2, 0.04 * h, z, label, paints.Legs, depth);
            BPolygon([x - (0.11 * h), 0.5 * h, x + (0.11 * h), 0.5 * h, x + (0.13 * h), 0.82 * h, x - (0.13 * h), 0.82 * h], z, label, paints.Top, depth);
            BLimb(x - (0.145 * h), 0.8 * h, x - (0.17 * h), 0.48 * h + (0.02 * h * s), 0.028 * h, z, label, paints.Top, depth);
            BLimb(x + (0.145 * h), 0.8 * h, x + (0.17 * h), 0.48 * h - (0.02 * h * s), 0.028 * h, z, label, paints.Top, depth);
            Head(x, 0.915 * h, h, z, label, paints, depth);
        }
    }

    private void Head(double x, double y, double h, double z, byte label, in FigurePaints paints, float depth)
    {
        BLimb(x, y - (0.09 * h), x, y - (0.04 * h), 0.03 * h, z, label, paints.Skin, depth);
        BEllipse(x, y, 0.058 * h, 0.068 * h, z, label, paints.Skin, depth);
        BEllipse(x, y + (0.03 * h), 0.06 * h, 0.04 * h, z, label, paints.Hair, depth);
    }

    /// <summary>The person on a bicycle or motorcycle, labelled rider; pedalling follows the distance covered.</summary>
    private void DrawRider(Mover m, VehicleFrame vf, bool motor, float depth)
    {
        var paints = PaintsOf(m);
        var helmet = motor ? Lit(m.Colour3.Scale(1.2), 6) : paints.Hair;
        var label = TrainId.Rider;
        var l = m.Length;
        var mid = l / 2;
        var crank = (vf.Forward ? vf.Start : -vf.Start) / 0.35;

        if (m.AlongX)
        {
            var z = m.Fixed;
            (double X, double Y) W(double a, double y) => (vf.World(a, 0, y).X, y);
            var fwd = vf.World(1, 0, 0).X - vf.World(0, 0, 0).X;
            var seatA = motor ? mid - 0.25 : mid - 0.2;
            var seatY = motor ? 1.0 : 1.02;
            var hip = W(seatA, seatY);
            var shoulder = W(seatA + (motor ? 0.3 : 0.35), seatY + 0.52);
            var hand = W(motor ? l - 0.6 : l - 0.5, motor ? 1.05 : 1.08);
            var bracket = (A: mid, Y: motor ? 0.45 : 0.3);
            var legs = motor ? 1 : 2;
            for (var k = 0; k < legs; k++)
            {
                var theta = crank + (k * Math.PI);
                var foot = motor ? W(mid + 0.1, 0.42) : W(bracket.A + (0.17 * Math.Cos(theta)), bracket.Y + (0.17 * Math.Sin(theta)));
                var knee = ((hip.X + foot.X) / 2 + (fwd * 0.18), ((hip.Y + foot.Y) / 2) + 0.1);
                BLimb(hip.X, hip.Y, knee.Item1, knee.Item2, 0.065, z, label, paints.Legs, depth);
                BLimb(knee.Item1, knee.Item2, foot.X, foot.Y, 0.055, z, label, paints.Legs, depth);
            }

            BLimb(hip.X, hip.Y, shoulder.X, shoulder.Y, 0.15, z, label, paints.Top, depth);
            BLimb(shoulder.X, shoulder.Y, hand.X, hand.Y, 0.045, z, label, paints.Top, depth);
            var head = (shoulder.X + (fwd * 0.08), shoulder.Y + 0.2);
            BEllipse(head.Item1, head.Item2, 0.11, 0.12, z, label, paints.Skin, depth);
            BEllipse(head.Item1, head.Item2 + (motor ? 0.02 : 0.05), motor ? 0.13 : 0.11, motor ? 0.12 : 0.07, z, label, helmet, depth);
        }
        else
        {
            var (x, _, z) = vf.World(mid, 0, 0);
            if (z < NearClip + 0.5)
            {
                return;
            }

            var seatY = motor ? 0.95 : 1.0;
            var s = Math.Sin(crank);
            BLimb(x - 0.1, seatY, x - 0.2, seatY - 0.25, 0.065, z, label, paints.Legs, depth);
            BLimb(x - 0.2, seatY - 0.25, x - 0.13, motor ? 0.42 : 0.3 + (0.12 * s), 0.055, z, label, paints.Legs, depth);
            BLimb(x + 0.1, seatY, x + 0.2, seatY - 0.25, 0.065, z, label, paints.Legs, depth);
            BLimb(x + 0.2, seatY - 0.25, x + 0.13, motor ? 0.42 : 0.3 - (0.12 * s), 0.055, z, label, paints.Legs, depth);
            BPolygon([x - 0.16, seatY - 0.05, x + 0.16, seatY - 0.05, x + 0.2, seatY + 0.52, x - 0.2, seatY + 0.52], z, label, paints.Top, depth);
            BLimb(x - 0.19, seatY + 0.48, x - (motor ? 0.34 : 0.27), 1.02, 0.045, z, label, paints.Top, depth);
            BLimb(x + 0.19, seatY + 0.48, x + (motor ? 0.34 : 0.27), 1.02, 0.045, z, label, paints.Top, depth);
            BLimb(x, seatY + 0.5, x, seatY + 0.6, 0.05, z, label, paints.Skin, depth);
            BEllipse(x, seatY + 0.7, 0.11, 0.125, z, label, paints.Skin, depth);
            BEllipse(x, seatY + 0.74, motor ? 0.135 : 0.115, motor ? 0.12 : 0.08, z, label, helmet, depth);
        }
    }
}
