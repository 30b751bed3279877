namespace AuthSplit.Core.Configuration;

/// <summary>
/// The whole configuration, in the appsettings shape (bound by Microsoft.Extensions.Configuration, so
/// <c>AUTHSPLIT__Source__Url</c> overrides <c>Source:Url</c>). Secrets are never here: only the names of
/// the environment variables or files that hold them. Validated by <see cref="AuthSplitOptionsValidator"/>
/// before anything connects.
/// </summary>
public sealed class AuthSplitOptions
{
    public SourceOptions Source { get; set; } = new();

    public TargetOptions? Target { get; set; }

    public IList<WaveOptions> Waves { get; init; } = [];

    public IList<MatchingRuleOptions> Matching { get; init; } = [];

    public SafetyOptions Safety { get; set; } = new();

    public ClassificationOptions Classification { get; set; } = new();

    public RemovalOptions Removal { get; set; } = new();

    /// <summary>Where approvals, the journal, backups and the ledger are kept (and Quartz's job store).</summary>
    public StateOptions State { get; set; } = new();

    /// <summary>How waves are executed.</summary>
    public ExecutionOptions Execution { get; set; } = new();

    /// <summary>The systems still authenticating against the legacy directory, each cut over in one wave.</summary>
    public IList<SystemOptions> Systems { get; init; } = [];

    /// <summary>How each person's password sync from the legacy platform is stopped.</summary>
    public PasswordSyncOptions PasswordSync { get; set; } = new();

    /// <summary>How per-wave evidence packs are signed (<c>authsplit evidence export</c>).</summary>
    public EvidenceOptions Evidence { get; set; } = new();

    /// <summary>What <c>authsplit serve</c> exposes besides running waves: health and metrics over HTTP.</summary>
    public ServeOptions Serve { get; set; } = new();

    /// <summary>Where the deadline forecast of <c>plan</c> takes its rates from.</summary>
    public ForecastOptions Forecast { get; set; } = new();
}

/// <summary>Where the deadline forecast of <c>plan</c> takes its rates from.</summary>
public sealed class ForecastOptions
{
    /// <summary>
    /// Rates measured in a rehearsal (<c>authsplit lab rates --out FILE</c>): the forecast uses them instead of
    /// Execution:ForecastLdapOperationsPerSecond (and lowers the Graph rate to them when slower than
    /// Target:Limits). A path relative to the config's folder. <c>plan --rates</c> overrides it.
    /// </summary>
    public string? MeasuredRatesFile { get; set; }
}

/// <summary>
/// The key evidence packs are signed with: an ECDSA P-256 private key in PEM (PKCS#8,
/// <c>-----BEGIN PRIVATE KEY-----</c>), from a file or an environment variable, never from the config
/// file. Without one, <c>evidence export</c> refuses unless told <c>--unsigned</c>.
/// </summary>
public sealed class EvidenceOptions
{
    /// <summary>A file (owner-only) holding the PEM private key.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The environment variable holding the PEM private key (the whole PEM text).</summary>
    public string? SigningKeyEnvVar { get; set; }
}

public enum DirectoryDialect
{
    OpenLdap,
    ActiveDirectory,
}

/// <summary>The legacy directory (read-only for planning).</summary>
public sealed class SourceOptions
{
    /// <summary><c>ldaps://host:port</c> (TLS from the first byte) or <c>ldap://host:port</c> (StartTLS unless disabled).</summary>
    public string? Url { get; set; }

    /// <summary>Empty for an anonymous bind.</summary>
    public string? BindDn { get; set; }

    /// <summary>Name of the environment variable holding the bind password.</summary>
    public string? PasswordEnvVar { get; set; }

    /// <summary>Path of a file holding the bind password (first line), as an alternative to <see cref="PasswordEnvVar"/>.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The subtree read; every wave's BaseDn must be inside it.</summary>
    public string? BaseDn { get; set; }

    public DirectoryDialect Dialect { get; set; } = DirectoryDialect.OpenLdap;

    public int PageSize { get; set; } = SourceDefaults.PageSize;

    /// <summary>PEM file of the CA(s) that sign the server certificate; the system store when absent.</summary>
    public string? CaFile { get; set; }

    /// <summary>For <c>ldap://</c> URLs: upgrade with StartTLS (the default).</summary>
    public bool StartTls { get; set; } = true;

    /// <summary>Must be true to talk to a directory without TLS; a warning is logged every time.</summary>
    public bool AllowPlainLdap { get; set; }

    public int TimeoutSeconds { get; set; } = SourceDefaults.TimeoutSeconds;
}

public static class SourceDefaults
{
    public const int PageSize = 1000;
    public const int MaxPageSize = 10_000;
    public const int TimeoutSeconds = 60;
}

/// <summary>The target IdP (issue 3 gives it a live connector; plans can also read a saved snapshot).</summary>
public sealed class TargetOptions
{
    public string Kind { get; set; } = "Graph";

    public string? BaseUrl { get; set; }

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    /// <summary><c>ClientSecret</c>, <c>Certificate</c> or <c>StaticToken</c>.</summary>
    public string? Auth { get; set; }

    /// <summary>The variable holding the client secret (ClientSecret) or the certificate's password (Certificate, optional).</summary>
    public string? SecretEnvVar { get; set; }

    /// <summary>Instead of <see cref="SecretEnvVar"/>: a file whose first line is the secret (e.g. a systemd credential).</summary>
    public string? SecretFile { get; set; }

    /// <summary>The app's certificate: PFX/PKCS#12, or PEM holding the certificate and its private key.</summary>
    public string? CertificatePath { get; set; }

    public string? TokenEnvVar { get; set; }

    /// <summary>Instead of <see cref="TokenEnvVar"/>: a file whose first line is the bearer token.</summary>
    public string? TokenFile { get; set; }

    public bool AllowInsecureLoopback { get; set; }

    public GraphLimitsOptions Limits { get; set; } = new();
}

/// <summary>
/// How the Graph connector paces writes and retries. The defaults follow Graph's documented identity
/// write limit; lower <see cref="WritesPerWindow"/> when other tools write to the same tenant with the
/// same app, and lower the retries for a quick failure in rehearsals.
/// </summary>
public sealed class GraphLimitsOptions
{
    /// <summary>Graph allows 3,000 identity writes per 150 s per app and tenant.</summary>
    public int WritesPerWindow { get; set; } = 3000;

    public int WriteWindowSeconds { get; set; } = 150;

    /// <summary>Retries of one request after 429, 5xx or a transport failure.</summary>
    public int MaxRetries { get; set; } = 8;

    /// <summary>First backoff when Graph sends no Retry-After; doubled each retry, with jitter.</summary>
    public double RetryBaseDelaySeconds { get; set; } = 1;

    /// <summary>Longest single wait, Retry-After included.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 120;

    public int AttemptTimeoutSeconds { get; set; } = 100;

    /// <summary>Reads of a written user before a value still showing the old state is a mismatch (Graph replicates writes).</summary>
    public int ReadBackAttempts { get; set; } = 4;

    /// <summary>Wait before the second read-back; doubled before each further one.</summary>
    public double ReadBackDelaySeconds { get; set; } = 2;
}

/// <summary>One wave: in scope = under <see cref="BaseDn"/> AND matches <see cref="Filter"/>.</summary>
public sealed class WaveOptions
{
    /// <summary>Lower-case name such as <c>hq</c>, <c>domestic</c>, <c>overseas</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Execution order; unique.</summary>
    public int Order { get; set; }

    /// <summary>The regulator's deadline for this wave (ISO date).</summary>
    public string? Deadline { get; set; }

    public string? BaseDn { get; set; }

    public string? Filter { get; set; }

    /// <summary>Waves that must be complete before this one may run.</summary>
    public IList<string> DependsOn { get; init; } = [];

    /// <summary>
    /// Planning refuses a wave whose scope is empty (a wrong filter looks exactly like that). Set this
    /// once a wave is finished and its scope is empty on purpose.
    /// </summary>
    public bool AllowEmptyScope { get; set; }
}

/// <summary>A matching rule: a legacy attribute compared to a Graph user property.</summary>
public sealed class MatchingRuleOptions
{
    /// <summary>LDAP attribute, e.g. <c>mail</c>, <c>employeeNumber</c>, <c>objectGUID</c>.</summary>
    public string? Source { get; set; }

    /// <summary>Graph user property, e.g. <c>mail</c>, <c>employeeId</c>, <c>onPremisesImmutableId</c>.</summary>
    public string? Target { get; set; }

    /// <summary>How the source value becomes the compared text; defaults to <c>Base64</c> for onPremisesImmutableId.</summary>
    public MatchTransform? Transform { get; set; }
}

public enum MatchTransform
{
    /// <summary>The value's text as is.</summary>
    None,
    /// <summary>Base64 of the raw value bytes (how Entra Connect derives onPremisesImmutableId from objectGUID).</summary>
    Base64,
}

public sealed class SafetyOptions
{
    /// <summary>Entries in scope that match this filter are never touched (disposition <c>protected</c>).</summary>
    public string? ProtectedFilter { get; set; }

    /// <summary>Entries at or below these DNs are never touched.</summary>
    public IList<string> ProtectedDns { get; init; } = [];

    /// <summary>A wave planning more legacy deletions than this is flagged; execution stops at it.</summary>
    public int MaxDeletesPerWave { get; set; } = SafetyDefaults.MaxDeletesPerWave;

    /// <summary>Refuse to plan when a wave's scope shrinks by more than this against the previous plan.</summary>
    public int MaxScopeDropPercent { get; set; } = SafetyDefaults.MaxScopeDropPercent;
}

public static class SafetyDefaults
{
    /// <summary>Entra Connect's own "prevent accidental deletes" threshold.</summary>
    public const int MaxDeletesPerWave = 500;
    public const int MaxScopeDropPercent = 20;
}

/// <summary>How an entry's kind is decided; the defaults follow the dialect.</summary>
public sealed class ClassificationOptions
{
    /// <summary>Entries matching this are service accounts (checked before person).</summary>
    public string? ServiceAccountFilter { get; set; }

    public string? GroupFilter { get; set; }

    public string? PersonFilter { get; set; }
}

/// <summary>What happens between disabling and deleting a legacy entry.</summary>
public sealed class RemovalOptions
{
    /// <summary>When set, disabled entries are moved under this DN before deletion.</summary>
    public string? QuarantineDn { get; set; }

    /// <summary>Days between disable and delete (0: delete in the same run).</summary>
    public int HoldDays { get; set; }

    /// <summary>How long backups of deleted entries are kept, i.e. how long a restore is possible.</summary>
    public int BackupRetentionDays { get; set; } = RemovalDefaults.BackupRetentionDays;

    /// <summary>How an OpenLDAP account is disabled (Active Directory always sets ACCOUNTDISABLE in userAccountControl).</summary>
    public OpenLdapDisableMethod OpenLdapDisable { get; set; } = OpenLdapDisableMethod.PasswordPolicyLock;
}

public enum OpenLdapDisableMethod
{
    /// <summary><c>pwdAccountLockedTime: 000001010000Z</c>: the ppolicy overlay refuses every bind until an administrator unlocks it (needs ppolicy loaded).</summary>
    PasswordPolicyLock,

    /// <summary><c>userPassword</c> replaced by a value no password can match; the original is in the backup.</summary>
    UnusablePassword,
}

public enum StateProvider
{
    Sqlite,
    Postgres,
}

/// <summary>The state store: approvals, journal, backups (encrypted) and the ledger, beside Quartz's own tables.</summary>
public sealed class StateOptions
{
    public StateProvider Provider { get; set; } = StateProvider.Sqlite;

    /// <summary>SQLite: the database file; relative to the config file's directory; default <c>authsplit-state.db</c> beside the config file.</summary>
    public string? Path { get; set; }

    /// <summary>PostgreSQL: the environment variable holding the connection string.</summary>
    public string? ConnectionStringEnvVar { get; set; }

    /// <summary>PostgreSQL: a file (owner-only) holding the connection string.</summary>
    public string? ConnectionStringFile { get; set; }

    /// <summary>
    /// PostgreSQL: accepts a connection string whose <c>SslMode</c> does not verify the server (Disable,
    /// Allow, Prefer, Require) when its host is this machine (127.0.0.1, ::1, localhost or a Unix socket),
    /// e.g. a database on the same host without TLS. Off: only <c>SslMode=VerifyFull</c> (the default when
    /// the connection string says none) is accepted.
    /// </summary>
    public bool AllowInsecureLoopback { get; set; }

    /// <summary>The environment variable holding the backup encryption key (32 bytes, base64). Never stored in the database.</summary>
    public string? BackupKeyEnvVar { get; set; }

    /// <summary>A file (owner-only) holding the backup encryption key (32 bytes, base64).</summary>
    public string? BackupKeyFile { get; set; }
}

public static class StateDefaults
{
    public const string SqliteFileName = "authsplit-state.db";
}

/// <summary>How waves are executed.</summary>
public sealed class ExecutionOptions
{
    /// <summary>Lets the approver of a plan also execute it (one-operator teams); the journal and the ledger record that it happened.</summary>
    public bool AllowSelfApproval { get; set; }

    /// <summary>Entities worked on at once (each entity's steps stay in order); their target calls are gathered into Graph <c>$batch</c>es.</summary>
    public int Concurrency { get; set; } = ExecutionDefaults.Concurrency;

    /// <summary>LDAP operations in flight at once against the legacy directory, each on its own connection (the bound on what the executor asks of the directory).</summary>
    public int LdapConnections { get; set; } = ExecutionDefaults.LdapConnections;

    /// <summary>Attempts per LDAP operation before the directory counts as unreachable (the wave then stops, resumable). The default, 10, with backoff from 250 ms doubling to at most 8 s, rides out about 40 s of a server restarting.</summary>
    public int LdapMaxRetries { get; set; } = ExecutionDefaults.LdapMaxRetries;

    /// <summary>Seconds per LDAP operation before it is given up on and retried.</summary>
    public int LdapOperationTimeoutSeconds { get; set; } = ExecutionDefaults.LdapOperationTimeoutSeconds;

    /// <summary>LDAP operations per second used by the deadline forecast before a run has measured one.</summary>
    public double ForecastLdapOperationsPerSecond { get; set; } = ExecutionDefaults.ForecastLdapOperationsPerSecond;

    /// <summary>
    /// Further rounds a run gives the entities that ended a round unfinished after a transient failure
    /// (a Graph request throttled or failing through all its retries, a read-back still waiting for
    /// replication, a directory or tenant unreachable), before the run stops and leaves them to the next
    /// run. 0: one round, as before.
    /// </summary>
    public int RetryRounds { get; set; } = ExecutionDefaults.RetryRounds;

    /// <summary>Seconds before the first further round; doubled before each next one (30, 60, 120 s by default: about 3.5 min of an outage ridden out).</summary>
    public double RetryRoundDelaySeconds { get; set; } = ExecutionDefaults.RetryRoundDelaySeconds;

    /// <summary>
    /// Seconds a wave's lease runs in the state store before it must be renewed: the run renews it every
    /// third of this and stops writing once two thirds have passed unrenewed (a paused process, a state
    /// store out of reach). Another node takes over a dead node's wave after at most this long.
    /// </summary>
    public double LeaseSeconds { get; set; } = ExecutionDefaults.LeaseSeconds;

    /// <summary>
    /// Parts a wave run by <c>serve</c> is cut into (by a hash of each entity's id), each a job of its own that
    /// any node of the cluster runs under a lease of its own: several nodes share one large wave. 1 (the
    /// default): the whole wave runs as one job on one node. A foreground <c>run</c> always runs the whole wave.
    /// </summary>
    public int Partitions { get; set; } = 1;

    /// <summary>
    /// Parts of one wave a node runs at once (1 by default). The node that fans a wave out is free first and
    /// would otherwise take every part before another node looks; with one part each, the other parts wait
    /// for the next node with room, so a wave's parts are spread over the cluster's nodes.
    /// </summary>
    public int PartsPerNode { get; set; } = 1;
}

public static class ExecutionDefaults
{
    public const int Concurrency = 32;
    public const int MaxConcurrency = 256;
    public const int LdapConnections = 8;
    public const int MaxLdapConnections = 64;
    public const int LdapMaxRetries = 10;
    public const int LdapOperationTimeoutSeconds = 30;
    public const double ForecastLdapOperationsPerSecond = 200;
    public const int RetryRounds = 3;
    public const double RetryRoundDelaySeconds = 30;
    public const double LeaseSeconds = 30;
}

public static class RemovalDefaults
{
    public const int BackupRetentionDays = 400;
}
