namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>Finds the checkout the tests were built from (the folder holding EdgeSeg.sln).</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "EdgeSeg.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no EdgeSeg.sln above {AppContext.BaseDirectory}");
    }
}
