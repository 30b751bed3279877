using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using Microsoft.Extensions.Configuration;

namespace AuthSplit.Cli.Configuration;

/// <summary>
/// Loads the appsettings-shaped config file, lets <c>AUTHSPLIT__Section__Key</c> environment variables
/// override it, binds it strictly (an unknown key is an error: a typo must not silently fall back to a
/// default) and validates it. Every fault is reported at once with its key path.
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentPrefix = "AUTHSPLIT__";

    private static readonly string[] KnownSections = ["Source", "Target", "Waves", "Matching", "Safety", "Classification", "Removal"];

    public static AuthSplitOptions Load(string path, bool requireLiveSource)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new InputException("config-missing", "config file not found; pass --config with the path of your authsplit.json", path);
        }

        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(fullPath, optional: false, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
        }
        catch (InvalidDataException ex)
        {
            throw new InputException("config-syntax", ex.InnerException?.Message ?? ex.Message, path);
        }
        catch (FormatException ex)
        {
            throw new InputException("config-syntax", ex.Message, path);
        }

        var errors = new List<ConfigError>();
        foreach (var section in configuration.GetChildren().Where(s => !KnownSections.Contains(s.Key, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add(new ConfigError(section.Key, $"unknown section (known: {string.Join(", ", KnownSections)})"));
        }

        var options = new AuthSplitOptions();
        try
        {
            configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(new ConfigError("(binding)", BinderMessage(ex)));
        }

        ResolveRelativePaths(options, Path.GetDirectoryName(fullPath)!);
        errors.AddRange(AuthSplitOptionsValidator.Validate(options, requireLiveSource));
        if (requireLiveSource && !string.IsNullOrWhiteSpace(options.Source.CaFile) && !File.Exists(options.Source.CaFile))
        {
            errors.Add(new ConfigError("Source:CaFile", $"file \"{options.Source.CaFile}\" does not exist"));
        }

        if (errors.Count > 0)
        {
            throw new ConfigInvalidException(path, errors);
        }

        return options;
    }

    // The binder only complains about unknown keys inside the types it binds; unknown root sections are
    // caught above (logging is set on the command line, not in the config, so there is no Serilog section).
    private static string BinderMessage(InvalidOperationException ex)
    {
        var message = ex.Message;
        return ex.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal) ? $"{message} {inner.Message}" : message;
    }

    private static void ResolveRelativePaths(AuthSplitOptions options, string directory)
    {
        options.Source.CaFile = Resolve(options.Source.CaFile, directory);
        options.Source.PasswordFile = Resolve(options.Source.PasswordFile, directory);
        if (options.Target is not null)
        {
            options.Target.CertificatePath = Resolve(options.Target.CertificatePath, directory);
            options.Target.SecretFile = Resolve(options.Target.SecretFile, directory);
            options.Target.TokenFile = Resolve(options.Target.TokenFile, directory);
        }
    }

    private static string? Resolve(string? path, string directory) =>
        string.IsNullOrWhiteSpace(path) || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(directory, path));
}

/// <summary>The config has faults; each is printed on its own line and the process exits 2.</summary>
public sealed class ConfigInvalidException : Exception
{
    public ConfigInvalidException(string path, IReadOnlyList<ConfigError> errors)
        : base($"{path}: {errors.Count} configuration error(s)")
    {
        Path = path;
        Errors = errors;
    }

    public ConfigInvalidException()
        : this("config", [])
    {
    }

    public ConfigInvalidException(string message)
        : this(message, [])
    {
    }

    public ConfigInvalidException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = "config";
        Errors = [];
    }

    public string Path { get; }

    public IReadOnlyList<ConfigError> Errors { get; }
}
