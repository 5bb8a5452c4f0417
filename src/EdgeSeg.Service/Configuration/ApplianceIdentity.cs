namespace EdgeSeg.Service.Configuration;

/// <summary>What parts of the service that publish or serve need to know of the box as a whole: its
/// id (a topic level) and the names of its configured cameras, in configuration order.</summary>
public sealed record ApplianceIdentity(string DeviceId, IReadOnlyList<string> Cameras)
{
    public static ApplianceIdentity From(EdgeSegOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.DeviceId, options.Cameras.Select(c => c.Name).ToList());
    }
}
