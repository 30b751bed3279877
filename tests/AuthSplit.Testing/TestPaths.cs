namespace AuthSplit.Testing;

public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Samples => Path.Combine(RepositoryRoot, "config", "samples");

    public static string NewWorkDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "authsplit-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AuthSplit.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("AuthSplit.sln not found above " + AppContext.BaseDirectory);
    }
}
