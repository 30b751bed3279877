using System.Text.Json;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using Microsoft.Extensions.Configuration;
using Serilog;

namespace AuthSplit.Cli.Configuration;

/// <summary>
/// Loads the appsettings-shaped config file, lets <c>AUTHSPLIT__Section__Key</c> environment variables
/// override it, checks every key against the options types (an unknown key or a value of the wrong type
/// is one error line with its key path: a typo must not silently fall back to a default), binds what is
/// sound and validates it. Every fault is reported at once, each exactly once, and a value that came
/// from an environment variable is named as such.
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentPrefix = "AUTHSPLIT__";

    // Logging is set on the command line (--log-dir), not in the config: a Serilog or Logging section
    // would be accepted and then ignored, so it is an unknown section like any other.
    private static readonly string[] IgnoredSections = [];

    public static AuthSplitOptions Load(string path, bool requireLiveSource, ILogger? log = null)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new InputException("config-missing", "config file not found; pass --config with the path of your authsplit.json", path);
        }

        CheckJsonSyntax(fullPath, path);
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(fullPath, optional: false, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            // CheckJsonSyntax saw valid JSON; what is left is a key given twice in different casing.
            throw new InputException("config-syntax", ex.InnerException?.Message ?? ex.Message, path);
        }

        var shape = new ConfigShapeChecker(configuration, IgnoredSections);
        var errors = new List<ConfigError>(shape.Check(typeof(AuthSplitOptions)));
        var options = new AuthSplitOptions();
        try
        {
            new ConfigurationBuilder().AddInMemoryCollection(shape.SoundValues()).Build().Bind(options);
        }
        catch (InvalidOperationException ex) when (errors.Count > 0)
        {
            // The shape check already named the fault this comes from.
            log?.Debug(ex, "Binding after config errors");
        }

        ResolveRelativePaths(options, Path.GetDirectoryName(fullPath)!);
        foreach (var error in AuthSplitOptionsValidator.Validate(options, requireLiveSource))
        {
            // A key already reported (unknown, wrong type) is not reported again as missing or invalid.
            if (!shape.IsFaulty(error.Key))
            {
                errors.Add(error with { Origin = shape.OriginOf(error.Key) });
            }
        }

        if (requireLiveSource && !string.IsNullOrWhiteSpace(options.Source.CaFile) && !File.Exists(options.Source.CaFile))
        {
            errors.Add(new ConfigError("Source:CaFile", $"file \"{options.Source.CaFile}\" does not exist") { Origin = shape.OriginOf("Source:CaFile") });
        }

        if (errors.Count > 0)
        {
            throw new ConfigInvalidException(path, errors);
        }

        if (log is not null)
        {
            foreach (var warning in SecretFilePermissions.Check(options))
            {
                log.Warning("{Warning}", warning);
            }
        }

        return options;
    }

    // The configuration provider reports a syntax error without its place; the reader knows line and column.
    private static void CheckJsonSyntax(string fullPath, string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(fullPath); // a UTF-8 byte order mark is skipped
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("config-missing", $"cannot read the config file: {ex.Message}", path);
        }

        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InputException("config-syntax", $"{path}:1:1: the config must be a JSON object ({{ \"Source\": ..., \"Waves\": [...] }})");
            }
        }
        catch (JsonException ex)
        {
            var line = (ex.LineNumber ?? 0) + 1;
            var column = (ex.BytePositionInLine ?? 0) + 1;
            var reason = ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
            throw new InputException("config-syntax", $"{path}:{line}:{column}: not valid JSON: {reason}");
        }
    }

    private static void ResolveRelativePaths(AuthSplitOptions options, string directory)
    {
        options.Source.CaFile = Resolve(options.Source.CaFile, directory);
        options.Source.PasswordFile = Resolve(options.Source.PasswordFile, directory);
        options.State.Path = Resolve(options.State.Path, directory);
        options.State.ConnectionStringFile = Resolve(options.State.ConnectionStringFile, directory);
        options.State.BackupKeyFile = Resolve(options.State.BackupKeyFile, directory);
        options.Evidence.SigningKeyFile = Resolve(options.Evidence.SigningKeyFile, directory);
        options.Forecast.MeasuredRatesFile = Resolve(options.Forecast.MeasuredRatesFile, directory);
        if (options.Target is not null)
        {
            options.Target.CertificatePath = Resolve(options.Target.CertificatePath, directory);
            options.Target.SecretFile = Resolve(options.Target.SecretFile, directory);
            options.Target.TokenFile = Resolve(options.Target.TokenFile, directory);
        }

        foreach (var system in options.Systems)
        {
            foreach (var account in system.LegacyAccounts)
            {
                account.CredentialFile = Resolve(account.CredentialFile, directory);
            }

            ResolveHeaders(system.Cutover?.Http, directory);
            foreach (var probe in system.Probes)
            {
                probe.CredentialFile = Resolve(probe.CredentialFile, directory);
                probe.CaFile = Resolve(probe.CaFile, directory);
                ResolveHeaders(probe.Http, directory);
            }
        }
    }

    private static void ResolveHeaders(HttpCallOptions? http, string directory)
    {
        foreach (var header in http?.Headers ?? [])
        {
            header.ValueFile = Resolve(header.ValueFile, directory);
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
