namespace EdgeSeg.Pipeline.Tests;

/// <summary>Paths of the fixtures copied beside the test assembly, and scratch folders.</summary>
internal static class TestFiles
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    /// <summary>A new empty folder, removed by the OS's temp cleaning; tests delete it when they can.</summary>
    public static string NewTempDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "edgeseg-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
