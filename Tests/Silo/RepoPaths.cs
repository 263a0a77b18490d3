namespace AnomalyZT.Tests.Silo;

/// <summary>Finds files of the repository from a test's working directory.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Samples => Path.Combine(Root, "samples", "ai-platform");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AnomalyZT.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find AnomalyZT.sln above " + AppContext.BaseDirectory);
    }
}
