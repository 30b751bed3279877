using System.Globalization;
using System.Text.RegularExpressions;
using AuthSplit.Core.Directory;

namespace AuthSplit.Core.Configuration;

/// <summary>One configuration fault: the key path as it appears in appsettings (<c>Waves:1:Filter</c>) and what is wrong.</summary>
public sealed record ConfigError(string Key, string Message)
{
    /// <summary>Where the value came from when it is not the config file (e.g. <c>environment variable AUTHSPLIT__Source__PageSize</c>).</summary>
    public string? Origin { get; init; }

    public override string ToString() => $"{Key}: {Message}";
}

/// <summary>
/// Checks the whole configuration before anything connects and reports every fault at once, each
/// with its key path, so an engineer fixes the file in one pass.
/// </summary>
public static partial class AuthSplitOptionsValidator
{
    public static IReadOnlyList<ConfigError> Validate(AuthSplitOptions options, bool requireLiveSource)
    {
        var errors = new List<ConfigError>();
        var baseDn = ValidateSource(options.Source, requireLiveSource, errors);
        ValidateWaves(options.Waves, baseDn, errors);
        ValidateMatching(options.Matching, errors);
        ValidateSafety(options.Safety, errors);
        ValidateClassification(options.Classification, errors);
        ValidateRemoval(options.Removal, errors);
        ValidateState(options.State, errors);
        ValidateExecution(options.Execution, errors);
        ValidateSystems(options.Systems, options.Waves, baseDn, errors);
        ValidatePasswordSync(options.PasswordSync, errors);
        ValidateEvidence(options.Evidence, errors);
        ValidateServe(options.Serve, errors);
        if (options.Target is not null)
        {
            ValidateTarget(options.Target, errors);
        }

        return errors;
    }

    private static void ValidateTarget(TargetOptions target, List<ConfigError> errors)
    {
        if (!string.Equals(target.Kind, "Graph", StringComparison.Ordinal))
        {
            errors.Add(new("Target:Kind", $"must be Graph (got \"{target.Kind}\")"));
        }

        if (target.BaseUrl is not null)
        {
            if (!Uri.TryCreate(target.BaseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add(new("Target:BaseUrl", $"\"{target.BaseUrl}\" is not an absolute https URL (e.g. https://graph.microsoft.com)"));
            }
            else if (url.Scheme == Uri.UriSchemeHttp && !(url.IsLoopback && target.AllowInsecureLoopback))
            {
                errors.Add(new("Target:BaseUrl", "plain http is allowed only for a loopback address with Target:AllowInsecureLoopback: true (the Graph emulator); use https"));
            }
        }

        ValidateLimits(target.Limits, errors);
        switch (target.Auth)
        {
            case "ClientSecret":
                RequireGuid(target.TenantId, "Target:TenantId", errors);
                RequireGuid(target.ClientId, "Target:ClientId", errors);
                RequireCredential(target.SecretEnvVar, target.SecretFile, "Target:SecretEnvVar", "Target:SecretFile", "the client secret", required: true, errors);
                break;
            case "Certificate":
                RequireGuid(target.TenantId, "Target:TenantId", errors);
                RequireGuid(target.ClientId, "Target:ClientId", errors);
                if (string.IsNullOrWhiteSpace(target.CertificatePath))
                {
                    errors.Add(new("Target:CertificatePath", "the path of the app's certificate (PFX or PEM with its key) is required for Certificate auth"));
                }

                // The certificate's password, if it has one.
                RequireCredential(target.SecretEnvVar, target.SecretFile, "Target:SecretEnvVar", "Target:SecretFile", "the certificate's password", required: false, errors);
                break;
            case "StaticToken":
                RequireCredential(target.TokenEnvVar, target.TokenFile, "Target:TokenEnvVar", "Target:TokenFile", "a bearer token (e.g. from az account get-access-token)", required: true, errors);
                break;
            default:
                errors.Add(new("Target:Auth", $"must be ClientSecret, Certificate or StaticToken (got \"{target.Auth}\")"));
                break;
        }
    }

    private static void ValidateLimits(GraphLimitsOptions limits, List<ConfigError> errors)
    {
        // Fewer than 20 writes per window is a typo, not a limit anyone runs a migration under.
        Range(limits.WritesPerWindow, 20, 100_000, "Target:Limits:WritesPerWindow", errors);
        Range(limits.WriteWindowSeconds, 1, 3600, "Target:Limits:WriteWindowSeconds", errors);
        Range(limits.MaxRetries, 0, 50, "Target:Limits:MaxRetries", errors);
        Range(limits.MaxRetryDelaySeconds, 1, 3600, "Target:Limits:MaxRetryDelaySeconds", errors);
        Range(limits.AttemptTimeoutSeconds, 1, 3600, "Target:Limits:AttemptTimeoutSeconds", errors);
        Range(limits.ReadBackAttempts, 1, 20, "Target:Limits:ReadBackAttempts", errors);
        if (!(limits.ReadBackDelaySeconds > 0 && limits.ReadBackDelaySeconds <= 600))
        {
            errors.Add(new("Target:Limits:ReadBackDelaySeconds", $"must be above 0 and at most 600 (got {limits.ReadBackDelaySeconds})"));
        }

        if (!(limits.RetryBaseDelaySeconds > 0 && limits.RetryBaseDelaySeconds <= limits.MaxRetryDelaySeconds))
        {
            errors.Add(new("Target:Limits:RetryBaseDelaySeconds", $"must be above 0 and at most MaxRetryDelaySeconds (got {limits.RetryBaseDelaySeconds})"));
        }
    }

    private static void Range(int value, int min, int max, string key, List<ConfigError> errors)
    {
        if (value < min || value > max)
        {
            errors.Add(new(key, $"must be between {min} and {max} (got {value})"));
        }
    }

    private static void RequireGuid(string? value, string key, List<ConfigError> errors)
    {
        if (!Guid.TryParse(value, out _))
        {
            errors.Add(new(key, $"must be a GUID (got \"{value}\")"));
        }
    }

    // A credential comes from exactly one of an environment variable and a file, never from the config file.
    private static void RequireCredential(string? variable, string? file, string variableKey, string fileKey, string what, bool required, List<ConfigError> errors)
    {
        var hasVariable = !string.IsNullOrWhiteSpace(variable);
        var hasFile = !string.IsNullOrWhiteSpace(file);
        if (hasVariable && hasFile)
        {
            errors.Add(new(variableKey, $"set {variableKey} or {fileKey} for {what}, not both"));
        }
        else if (hasVariable || (required && !hasFile))
        {
            RequireEnvVarName(variable, variableKey, what, errors);
        }
    }

    private static void RequireEnvVarName(string? value, string key, string what, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(value) || !EnvVarName().IsMatch(value))
        {
            errors.Add(new(key, $"must name the environment variable that holds {what} (or set the matching *File key to a file that does); secrets are never read from the config file"));
        }
    }

    private static DistinguishedName? ValidateSource(SourceOptions source, bool live, List<ConfigError> errors)
    {
        var baseDn = Dn(source.BaseDn, "Source:BaseDn", required: true, errors);
        if (!Enum.IsDefined(source.Dialect))
        {
            errors.Add(new("Source:Dialect", "must be OpenLdap or ActiveDirectory"));
        }

        if (source.PageSize < 1 || source.PageSize > SourceDefaults.MaxPageSize)
        {
            errors.Add(new("Source:PageSize", $"must be between 1 and {SourceDefaults.MaxPageSize} (got {source.PageSize})"));
        }

        if (source.TimeoutSeconds < 1 || source.TimeoutSeconds > 3600)
        {
            errors.Add(new("Source:TimeoutSeconds", $"must be between 1 and 3600 (got {source.TimeoutSeconds})"));
        }

        Dn(source.BindDn, "Source:BindDn", required: false, errors);
        if (!live)
        {
            return baseDn;
        }

        if (string.IsNullOrWhiteSpace(source.Url))
        {
            errors.Add(new("Source:Url", "is required to read the directory live (or plan from a snapshot with --source-ldif)"));
        }
        else if (!Uri.TryCreate(source.Url, UriKind.Absolute, out var url) || (url.Scheme != "ldaps" && url.Scheme != "ldap") || string.IsNullOrEmpty(url.Host))
        {
            errors.Add(new("Source:Url", $"\"{source.Url}\" is not an ldaps://host:port or ldap://host:port URL"));
        }
        else if (url.Scheme == "ldap" && !source.StartTls && !source.AllowPlainLdap)
        {
            errors.Add(new("Source:Url", "ldap:// without StartTLS sends the bind password in clear: use ldaps://, keep Source:StartTls true, or set Source:AllowPlainLdap true for a lab"));
        }

        if (!string.IsNullOrWhiteSpace(source.BindDn) && string.IsNullOrWhiteSpace(source.PasswordEnvVar) && string.IsNullOrWhiteSpace(source.PasswordFile))
        {
            errors.Add(new("Source:PasswordEnvVar", "a BindDn needs its password from an environment variable (PasswordEnvVar) or a file (PasswordFile); passwords are never read from the config file"));
        }

        if (!string.IsNullOrWhiteSpace(source.PasswordEnvVar) && !EnvVarName().IsMatch(source.PasswordEnvVar))
        {
            errors.Add(new("Source:PasswordEnvVar", $"\"{source.PasswordEnvVar}\" is not an environment variable name (it must name the variable, not hold the password)"));
        }

        return baseDn;
    }

    private static void ValidateWaves(IList<WaveOptions> waves, DistinguishedName? sourceBase, List<ConfigError> errors)
    {
        if (waves.Count == 0)
        {
            errors.Add(new("Waves", "at least one wave is required"));
            return;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var orders = new HashSet<int>();
        for (var i = 0; i < waves.Count; i++)
        {
            var wave = waves[i];
            var key = $"Waves:{i}";
            if (string.IsNullOrWhiteSpace(wave.Name) || !WaveName().IsMatch(wave.Name))
            {
                errors.Add(new($"{key}:Name", $"\"{wave.Name}\" must be lower-case letters, digits and '-' (e.g. hq, domestic, overseas)"));
            }
            else if (!names.Add(wave.Name))
            {
                errors.Add(new($"{key}:Name", $"wave \"{wave.Name}\" is defined twice"));
            }

            if (!orders.Add(wave.Order))
            {
                errors.Add(new($"{key}:Order", $"order {wave.Order} is used by another wave; orders must be unique"));
            }

            if (string.IsNullOrWhiteSpace(wave.Deadline) || !DateOnly.TryParseExact(wave.Deadline, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                errors.Add(new($"{key}:Deadline", $"\"{wave.Deadline}\" is not a date in the form yyyy-MM-dd"));
            }

            var waveBase = Dn(wave.BaseDn, $"{key}:BaseDn", required: true, errors);
            if (waveBase is not null && sourceBase is not null && !waveBase.IsWithin(sourceBase))
            {
                errors.Add(new($"{key}:BaseDn", $"\"{wave.BaseDn}\" is not inside Source:BaseDn \"{sourceBase.Original}\""));
            }

            Filter(wave.Filter, $"{key}:Filter", required: true, errors);
        }

        for (var i = 0; i < waves.Count; i++)
        {
            foreach (var dependency in waves[i].DependsOn)
            {
                var target = waves.FirstOrDefault(w => w.Name == dependency);
                if (target is null)
                {
                    errors.Add(new($"Waves:{i}:DependsOn", $"\"{dependency}\" is not a wave"));
                }
                else if (target.Order >= waves[i].Order)
                {
                    errors.Add(new($"Waves:{i}:DependsOn", $"\"{dependency}\" runs at order {target.Order}, not before this wave ({waves[i].Order})"));
                }
            }
        }
    }

    private static void ValidateMatching(IList<MatchingRuleOptions> rules, List<ConfigError> errors)
    {
        if (rules.Count == 0)
        {
            errors.Add(new("Matching", "at least one matching rule (Source attribute -> Target property) is required"));
        }

        for (var i = 0; i < rules.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(rules[i].Source) || !AttributeName().IsMatch(rules[i].Source!.Trim()))
            {
                errors.Add(new($"Matching:{i}:Source", $"\"{rules[i].Source}\" is not an LDAP attribute name"));
            }

            if (string.IsNullOrWhiteSpace(rules[i].Target) || GraphUserProperties.Find(rules[i].Target!) is null)
            {
                errors.Add(new($"Matching:{i}:Target", $"\"{rules[i].Target}\" is not a Graph user property a rule can match on (one of: {string.Join(", ", GraphUserProperties.Matchable)})"));
            }

            if (rules[i].Transform is { } transform && !Enum.IsDefined(transform))
            {
                errors.Add(new($"Matching:{i}:Transform", "must be None or Base64"));
            }
        }
    }

    private static void ValidateSafety(SafetyOptions safety, List<ConfigError> errors)
    {
        Filter(safety.ProtectedFilter, "Safety:ProtectedFilter", required: false, errors);
        for (var i = 0; i < safety.ProtectedDns.Count; i++)
        {
            Dn(safety.ProtectedDns[i], $"Safety:ProtectedDns:{i}", required: true, errors);
        }

        if (safety.MaxDeletesPerWave < 0)
        {
            errors.Add(new("Safety:MaxDeletesPerWave", $"must be 0 or more (got {safety.MaxDeletesPerWave})"));
        }

        if (safety.MaxScopeDropPercent is < 0 or > 100)
        {
            errors.Add(new("Safety:MaxScopeDropPercent", $"must be between 0 and 100 (got {safety.MaxScopeDropPercent})"));
        }
    }

    private static void ValidateClassification(ClassificationOptions classification, List<ConfigError> errors)
    {
        Filter(classification.ServiceAccountFilter, "Classification:ServiceAccountFilter", required: false, errors);
        Filter(classification.GroupFilter, "Classification:GroupFilter", required: false, errors);
        Filter(classification.PersonFilter, "Classification:PersonFilter", required: false, errors);
    }

    private static void ValidateRemoval(RemovalOptions removal, List<ConfigError> errors)
    {
        Dn(removal.QuarantineDn, "Removal:QuarantineDn", required: false, errors);
        if (removal.HoldDays is < 0 or > 365)
        {
            errors.Add(new("Removal:HoldDays", $"must be between 0 and 365 (got {removal.HoldDays})"));
        }

        if (removal.BackupRetentionDays < 1)
        {
            errors.Add(new("Removal:BackupRetentionDays", $"must be at least 1 (got {removal.BackupRetentionDays})"));
        }
    }

    private static void ValidateState(StateOptions state, List<ConfigError> errors)
    {
        if (state.Provider == StateProvider.Sqlite)
        {
            if (state.Path is not null && string.IsNullOrWhiteSpace(state.Path))
            {
                errors.Add(new("State:Path", "is empty: leave it out for authsplit-state.db beside the config file, or name the database file"));
            }

            if (state.ConnectionStringEnvVar is not null || state.ConnectionStringFile is not null)
            {
                errors.Add(new(state.ConnectionStringEnvVar is not null ? "State:ConnectionStringEnvVar" : "State:ConnectionStringFile", "is for Provider Postgres; a Sqlite store takes State:Path"));
            }

            if (state.AllowInsecureLoopback)
            {
                errors.Add(new("State:AllowInsecureLoopback", "is for Provider Postgres; a Sqlite store has no connection to secure"));
            }
        }
        else
        {
            if ((state.ConnectionStringEnvVar is null) == (state.ConnectionStringFile is null))
            {
                errors.Add(new("State:ConnectionStringEnvVar", "Provider Postgres needs exactly one of State:ConnectionStringEnvVar and State:ConnectionStringFile (the connection string is a secret: never in the config file)"));
            }

            if (state.ConnectionStringFile is not null && string.IsNullOrWhiteSpace(state.ConnectionStringFile))
            {
                errors.Add(new("State:ConnectionStringFile", "is empty: name the file (owner-only) whose first line is the connection string"));
            }

            if (state.Path is not null)
            {
                errors.Add(new("State:Path", "is for Provider Sqlite; a Postgres store takes a connection string"));
            }
        }

        if (state.ConnectionStringEnvVar is not null && !EnvVarName().IsMatch(state.ConnectionStringEnvVar))
        {
            errors.Add(new("State:ConnectionStringEnvVar", $"\"{state.ConnectionStringEnvVar}\" is not an environment variable name"));
        }

        if (state.BackupKeyEnvVar is not null && state.BackupKeyFile is not null)
        {
            errors.Add(new("State:BackupKeyEnvVar", "set only one of State:BackupKeyEnvVar and State:BackupKeyFile"));
        }

        if (state.BackupKeyEnvVar is not null && !EnvVarName().IsMatch(state.BackupKeyEnvVar))
        {
            errors.Add(new("State:BackupKeyEnvVar", $"\"{state.BackupKeyEnvVar}\" is not an environment variable name"));
        }
    }

    private static void ValidateEvidence(EvidenceOptions evidence, List<ConfigError> errors)
    {
        if (evidence.SigningKeyFile is not null && evidence.SigningKeyEnvVar is not null)
        {
            errors.Add(new("Evidence:SigningKeyEnvVar", "set only one of Evidence:SigningKeyEnvVar and Evidence:SigningKeyFile"));
        }

        if (evidence.SigningKeyFile is not null && string.IsNullOrWhiteSpace(evidence.SigningKeyFile))
        {
            errors.Add(new("Evidence:SigningKeyFile", "is empty: name the PEM file holding the evidence signing key, or leave the key out"));
        }

        if (evidence.SigningKeyEnvVar is not null)
        {
            RequireEnvVarName(evidence.SigningKeyEnvVar, "Evidence:SigningKeyEnvVar", "the evidence signing key (PEM)", errors);
        }
    }

    private static void ValidateExecution(ExecutionOptions execution, List<ConfigError> errors)
    {
        if (execution.Concurrency is < 1 or > ExecutionDefaults.MaxConcurrency)
        {
            errors.Add(new("Execution:Concurrency", $"must be between 1 and {ExecutionDefaults.MaxConcurrency} (got {execution.Concurrency})"));
        }

        if (execution.LdapConnections is < 1 or > ExecutionDefaults.MaxLdapConnections)
        {
            errors.Add(new("Execution:LdapConnections", $"must be between 1 and {ExecutionDefaults.MaxLdapConnections} (got {execution.LdapConnections})"));
        }

        if (execution.LdapMaxRetries is < 0 or > 100)
        {
            errors.Add(new("Execution:LdapMaxRetries", $"must be between 0 and 100 (got {execution.LdapMaxRetries})"));
        }

        if (execution.LdapOperationTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add(new("Execution:LdapOperationTimeoutSeconds", $"must be between 1 and 3600 (got {execution.LdapOperationTimeoutSeconds})"));
        }

        if (!(execution.ForecastLdapOperationsPerSecond > 0) || double.IsInfinity(execution.ForecastLdapOperationsPerSecond))
        {
            errors.Add(new("Execution:ForecastLdapOperationsPerSecond", $"must be a positive number (got {execution.ForecastLdapOperationsPerSecond})"));
        }

        if (execution.RetryRounds is < 0 or > 20)
        {
            errors.Add(new("Execution:RetryRounds", $"must be between 0 and 20 (got {execution.RetryRounds})"));
        }

        if (!(execution.RetryRoundDelaySeconds >= 0 && execution.RetryRoundDelaySeconds <= 3600))
        {
            errors.Add(new("Execution:RetryRoundDelaySeconds", $"must be between 0 and 3600 (got {execution.RetryRoundDelaySeconds})"));
        }

        if (execution.Partitions is < 1 or > Execution.Cluster.WavePartition.MaxCount)
        {
            errors.Add(new("Execution:Partitions", $"must be between 1 and {Execution.Cluster.WavePartition.MaxCount} (got {execution.Partitions})"));
        }

        if (execution.PartsPerNode is < 1 or > Execution.Cluster.WavePartition.MaxCount)
        {
            errors.Add(new("Execution:PartsPerNode", $"must be between 1 and {Execution.Cluster.WavePartition.MaxCount} (got {execution.PartsPerNode})"));
        }

        if (!(execution.LeaseSeconds >= 3 && execution.LeaseSeconds <= 600))
        {
            errors.Add(new("Execution:LeaseSeconds", $"must be between 3 and 600 (got {execution.LeaseSeconds}): a few seconds of lease are renewed every third of them"));
        }
    }

    private static DistinguishedName? Dn(string? text, string key, bool required, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                errors.Add(new(key, "is required (a DN such as ou=hq,dc=example,dc=com)"));
            }

            return null;
        }

        if (DistinguishedName.TryParse(text, out var dn, out var error))
        {
            return dn;
        }

        errors.Add(new(key, $"\"{text}\" is not a valid DN: {error}"));
        return null;
    }

    private static void Filter(string? text, string key, bool required, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                errors.Add(new(key, "is required (an LDAP filter such as (objectClass=inetOrgPerson))"));
            }

            return;
        }

        if (!LdapFilter.TryParse(text, out _, out var error))
        {
            errors.Add(new(key, $"\"{text}\" is not a valid LDAP filter: {error}"));
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex WaveName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvVarName();

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\\.[0-9]+)+)(;[A-Za-z0-9-]+)*$")]
    private static partial Regex AttributeName();
}
