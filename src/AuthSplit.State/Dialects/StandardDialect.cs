using System.Data.Common;

namespace AuthSplit.State.Dialects;

/// <summary>
/// The SQL both providers accept (Quartz's <c>StdAdoDelegate</c>): plain inserts and selects, and the
/// <c>INSERT ... ON CONFLICT (key) DO UPDATE SET col = excluded.col</c> upsert that SQLite (3.24+) and
/// PostgreSQL (9.5+) spell the same way. A provider overrides only what differs.
/// </summary>
public abstract class StandardDialect : IStoreDialect
{
    private const string EntityColumns = "plan_id, entity_id, wave, dn, kind, state, last_step, attempts, reason, hold_until, updated_at";
    private const string WaveColumns = "plan_id, wave, status, started_by, started_node, started_at, completed_at, reason, self_approved";
    private const string StepColumns = "ledger_sequence, plan_id, wave, entity_id, step, outcome, attempt, before_json, after_json, reason, operator, node, at";
    private const string BackupColumns = "plan_id, entity_id, wave, taken_at, stored_at, sha256, key_fingerprint, nonce, ciphertext, tag";
    private const string LedgerColumns = "sequence, at, kind, plan_id, wave, entity_id, step, outcome, actor, node, data, previous_hash, hash";

    public abstract string SchemaFolder { get; }

    public abstract Task PrepareConnectionAsync(DbConnection connection, CancellationToken cancellationToken);

    public abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    public abstract Exception Translate(DbException exception, string description);

    public abstract bool SpoilsTransaction(DbException exception);

    public virtual string CreateSchemaVersionTable =>
        "CREATE TABLE IF NOT EXISTS authsplit_schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at VARCHAR(40) NOT NULL)";

    public virtual string SelectSchemaVersion => "SELECT MAX(version) FROM authsplit_schema_version";

    public virtual string InsertSchemaVersion => "INSERT INTO authsplit_schema_version (version, applied_at) VALUES (@version, @applied_at)";

    public virtual string InsertPlan =>
        "INSERT INTO authsplit_plans (plan_id, plan_json, saved_at) VALUES (@plan_id, @plan_json, @saved_at) ON CONFLICT (plan_id) DO NOTHING";

    public virtual string SelectPlan => "SELECT plan_json FROM authsplit_plans WHERE plan_id = @plan_id";

    public virtual string SelectApproval =>
        "SELECT plan_id, approved_by, approved_at, note FROM authsplit_approvals WHERE plan_id = @plan_id AND approved_by = @approved_by";

    public virtual string InsertApproval =>
        "INSERT INTO authsplit_approvals (plan_id, approved_by, approved_at, note) VALUES (@plan_id, @approved_by, @approved_at, @note)";

    public virtual string SelectApprovals =>
        "SELECT plan_id, approved_by, approved_at, note FROM authsplit_approvals WHERE plan_id = @plan_id ORDER BY approved_at, approved_by";

    public virtual string SelectWave => $"SELECT {WaveColumns} FROM authsplit_waves WHERE plan_id = @plan_id AND wave = @wave";

    public virtual string SelectWaveRuns => $"SELECT {WaveColumns} FROM authsplit_waves WHERE wave = @wave ORDER BY started_at DESC, plan_id";

    public virtual string SelectRunningWaves => $"SELECT {WaveColumns} FROM authsplit_waves WHERE status = 'running' ORDER BY started_at, plan_id, wave";

    public virtual string UpsertWave =>
        $"INSERT INTO authsplit_waves ({WaveColumns}) VALUES (@plan_id, @wave, @status, @started_by, @started_node, @started_at, @completed_at, @reason, @self_approved) "
        + "ON CONFLICT (plan_id, wave) DO UPDATE SET status = excluded.status, started_by = excluded.started_by, started_node = excluded.started_node, "
        + "started_at = excluded.started_at, completed_at = excluded.completed_at, reason = excluded.reason, self_approved = excluded.self_approved";

    public virtual string InsertEntityIfMissing =>
        $"INSERT INTO authsplit_entities ({EntityColumns}) VALUES (@plan_id, @entity_id, @wave, @dn, @kind, @state, @last_step, @attempts, @reason, @hold_until, @updated_at) "
        + "ON CONFLICT (plan_id, entity_id) DO NOTHING";

    public virtual string UpsertEntity =>
        $"INSERT INTO authsplit_entities ({EntityColumns}) VALUES (@plan_id, @entity_id, @wave, @dn, @kind, @state, @last_step, @attempts, @reason, @hold_until, @updated_at) "
        + "ON CONFLICT (plan_id, entity_id) DO UPDATE SET wave = excluded.wave, dn = excluded.dn, kind = excluded.kind, state = excluded.state, "
        + "last_step = excluded.last_step, attempts = excluded.attempts, reason = excluded.reason, hold_until = excluded.hold_until, updated_at = excluded.updated_at";

    public virtual string SelectEntities =>
        $"SELECT {EntityColumns} FROM authsplit_entities WHERE plan_id = @plan_id AND wave = @wave ORDER BY entity_id";

    public virtual string SelectEntity => $"SELECT {EntityColumns} FROM authsplit_entities WHERE plan_id = @plan_id AND entity_id = @entity_id";

    public virtual string InsertStep =>
        $"INSERT INTO authsplit_steps ({StepColumns}) VALUES (@ledger_sequence, @plan_id, @wave, @entity_id, @step, @outcome, @attempt, @before_json, @after_json, @reason, @operator, @node, @at)";

    public virtual string SelectSteps =>
        $"SELECT {StepColumns} FROM authsplit_steps WHERE plan_id = @plan_id AND entity_id = @entity_id ORDER BY ledger_sequence";

    public virtual string SelectDoneStepsOfOtherPlans =>
        $"SELECT {StepColumns} FROM authsplit_steps WHERE wave = @wave AND plan_id <> @plan_id AND outcome IN (@done, @already_done) ORDER BY ledger_sequence";

    // Done and already-done: a crash between the delete and its journal row makes the retry find the
    // entry gone (already-done), and that delete was still ours and counts against the budget.
    public virtual string CountDeletes =>
        "SELECT COUNT(DISTINCT entity_id) FROM authsplit_steps WHERE plan_id = @plan_id AND wave = @wave AND step = @step AND outcome IN (@done, @already_done)";

    public virtual string SelectPause => "SELECT wave, paused, paused_by, at FROM authsplit_pauses WHERE wave = @wave";

    public virtual string UpsertPause =>
        "INSERT INTO authsplit_pauses (wave, paused, paused_by, at) VALUES (@wave, @paused, @paused_by, @at) "
        + "ON CONFLICT (wave) DO UPDATE SET paused = excluded.paused, paused_by = excluded.paused_by, at = excluded.at";

    public virtual string SelectBackup => $"SELECT {BackupColumns} FROM authsplit_backups WHERE plan_id = @plan_id AND entity_id = @entity_id";

    public virtual string SelectNewestBackup =>
        $"SELECT {BackupColumns} FROM authsplit_backups WHERE entity_id = @entity_id ORDER BY stored_at DESC, plan_id DESC LIMIT 1";

    public virtual string InsertBackup =>
        $"INSERT INTO authsplit_backups ({BackupColumns}) VALUES (@plan_id, @entity_id, @wave, @taken_at, @stored_at, @sha256, @key_fingerprint, @nonce, @ciphertext, @tag)";

    public virtual string SelectLedgerHead => "SELECT sequence, hash FROM authsplit_ledger ORDER BY sequence DESC LIMIT 1";

    public virtual string InsertLedger =>
        $"INSERT INTO authsplit_ledger ({LedgerColumns}) VALUES (@sequence, @at, @kind, @plan_id, @wave, @entity_id, @step, @outcome, @actor, @node, @data, @previous_hash, @hash)";

    public virtual string SelectLedger => $"SELECT {LedgerColumns} FROM authsplit_ledger ORDER BY sequence";

    // A wave's records, and the approvals of every plan that ran it.
    public virtual string SelectLedgerOfWave =>
        $"SELECT {LedgerColumns} FROM authsplit_ledger WHERE wave = @wave "
        + "OR (kind = @approval AND plan_id IN (SELECT plan_id FROM authsplit_ledger WHERE wave = @wave)) ORDER BY sequence";

    // A manual gate's events (kind gate, entity id gate:NAME); read once per gate command, so a scan will do.
    public virtual string SelectGateEvents => $"SELECT {LedgerColumns} FROM authsplit_ledger WHERE kind = @kind AND entity_id = @entity_id ORDER BY sequence";

    /// <summary>The database's clock in microseconds since 1970 (one clock for every node).</summary>
    protected abstract string NowMicroseconds { get; }

    private const string LeaseColumns = "plan_id, wave, part, holder, token, acquired_us, renewed_us, expires_us, released_us";

    // Taken when there is no lease, or it was released, or it has expired, or it is already this holder's;
    // every taking gets the next token. RETURNING answers only when the row was written.
    public virtual string AcquireLease =>
        $"INSERT INTO authsplit_leases ({LeaseColumns}) VALUES (@plan_id, @wave, @part, @holder, 1, {NowMicroseconds}, {NowMicroseconds}, {NowMicroseconds} + @duration_us, NULL) "
        + "ON CONFLICT (plan_id, wave, part) DO UPDATE SET holder = excluded.holder, token = authsplit_leases.token + 1, acquired_us = excluded.acquired_us, "
        + "renewed_us = excluded.renewed_us, expires_us = excluded.expires_us, released_us = NULL "
        + "WHERE authsplit_leases.released_us IS NOT NULL OR authsplit_leases.expires_us <= excluded.acquired_us OR authsplit_leases.holder = excluded.holder "
        + "RETURNING token, expires_us";

    public virtual string SelectLeaseHolder => "SELECT holder, expires_us FROM authsplit_leases WHERE plan_id = @plan_id AND wave = @wave AND part = @part";

    // Renewed only while still the same taking and not yet expired: an expired lease is lost, even if no one took it.
    public virtual string RenewLease =>
        $"UPDATE authsplit_leases SET renewed_us = {NowMicroseconds}, expires_us = {NowMicroseconds} + @duration_us "
        + $"WHERE plan_id = @plan_id AND wave = @wave AND part = @part AND holder = @holder AND token = @token AND released_us IS NULL AND expires_us > {NowMicroseconds} "
        + "RETURNING expires_us";

    public virtual string TakeOverLease =>
        $"UPDATE authsplit_leases SET holder = @holder, token = token + 1, acquired_us = {NowMicroseconds}, renewed_us = {NowMicroseconds}, expires_us = {NowMicroseconds} + @duration_us "
        + "WHERE plan_id = @plan_id AND wave = @wave AND part = @part AND holder = @gone_holder AND released_us IS NULL "
        + "RETURNING token, expires_us";

    public virtual string ReleaseLease =>
        $"UPDATE authsplit_leases SET released_us = {NowMicroseconds} "
        + "WHERE plan_id = @plan_id AND wave = @wave AND part = @part AND holder = @holder AND token = @token AND released_us IS NULL";

    public virtual string SelectLeases => $"SELECT {LeaseColumns}, {NowMicroseconds} FROM authsplit_leases ORDER BY plan_id, wave, part";

    // ---- the cluster's shared Graph write budget

    /// <summary>SQLite: the store's own write transaction (BEGIN IMMEDIATE locks the file, so decisions are serialised).</summary>
    public virtual Task<DbTransaction> BeginWriteBudgetAsync(DbConnection connection, CancellationToken cancellationToken) => BeginWriteAsync(connection, cancellationToken);

    public virtual string InsertWriteBudget =>
        "INSERT INTO authsplit_write_budgets (tenant, app, writes_per_window, window_ms) VALUES (@tenant, @app, @writes_per_window, @window_ms) ON CONFLICT (tenant, app) DO NOTHING";

    public virtual string LockWriteBudget => "SELECT writes_per_window, window_ms FROM authsplit_write_budgets WHERE tenant = @tenant AND app = @app FOR UPDATE";

    public virtual string SetWriteBudgetLimit =>
        "UPDATE authsplit_write_budgets SET writes_per_window = @writes_per_window, window_ms = @window_ms WHERE tenant = @tenant AND app = @app AND writes_per_window IS NULL";

    public virtual string SelectDatabaseMicroseconds => "SELECT " + NowMicroseconds;

    public virtual string SelectWriteGrants =>
        "SELECT granted_at, writes FROM authsplit_write_grants WHERE tenant = @tenant AND app = @app AND granted_at > @after ORDER BY granted_at";

    public virtual string InsertWriteGrant =>
        "INSERT INTO authsplit_write_grants (tenant, app, granted_at, writes, node) VALUES (@tenant, @app, @granted_at, @writes, @node) RETURNING id";

    public virtual string ReturnWriteGrant =>
        "UPDATE authsplit_write_grants SET writes = writes - @writes WHERE id = @id AND tenant = @tenant AND app = @app AND writes >= @writes";

    public virtual string DeleteWriteGrants => "DELETE FROM authsplit_write_grants WHERE tenant = @tenant AND app = @app AND granted_at <= @before";
}
