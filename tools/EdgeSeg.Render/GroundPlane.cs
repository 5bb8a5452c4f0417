namespace EdgeSeg.Pipeline.Areas;

/// <summary>
/// Stands in for the library's GroundPlane (which fits homographies with OpenCV) so that the renderer's
/// sources compile here; rendering a dataset never builds a ground plane.
/// </summary>
public sealed class GroundPlane
{
    public GroundPlane(ReadOnlySpan<double> imageToGround, double maxDistance, RelativePoint visible) =>
        throw new NotSupportedException("edgeseg-render has no ground-plane calibration");
}
