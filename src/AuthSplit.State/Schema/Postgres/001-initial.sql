-- AuthSplit state, schema version 1 (PostgreSQL): the tables, columns and keys of Schema/Sqlite, so one
-- contract holds for both. Times stay UTC text of fixed width (yyyy-MM-ddTHH:mm:ss.fffffffZ): the ledger's
-- hash is computed over that text, they sort as text, and they read back to the 100 ns (timestamptz keeps
-- microseconds only). Blobs are bytea; the ledger is append-only and hash-chained (docs/ledger-format.md).

CREATE TABLE authsplit_plans (
    plan_id     VARCHAR(100) NOT NULL PRIMARY KEY,
    plan_json   BYTEA NOT NULL,
    saved_at    VARCHAR(40) NOT NULL
);

CREATE TABLE authsplit_approvals (
    plan_id     VARCHAR(100) NOT NULL,
    approved_by VARCHAR(200) NOT NULL,
    approved_at VARCHAR(40) NOT NULL,
    note        TEXT,
    PRIMARY KEY (plan_id, approved_by)
);

CREATE TABLE authsplit_waves (
    plan_id      VARCHAR(100) NOT NULL,
    wave         VARCHAR(200) NOT NULL,
    status       VARCHAR(40) NOT NULL,
    started_by   VARCHAR(200) NOT NULL,
    started_node VARCHAR(200) NOT NULL,
    started_at   VARCHAR(40) NOT NULL,
    completed_at VARCHAR(40),
    reason       TEXT,
    self_approved INTEGER NOT NULL,
    PRIMARY KEY (plan_id, wave)
);

CREATE INDEX authsplit_waves_by_wave ON authsplit_waves (wave, started_at);

CREATE TABLE authsplit_entities (
    plan_id     VARCHAR(100) NOT NULL,
    entity_id   VARCHAR(200) NOT NULL,
    wave        VARCHAR(200) NOT NULL,
    dn          TEXT NOT NULL,
    kind        VARCHAR(40) NOT NULL,
    state       VARCHAR(40) NOT NULL,
    last_step   VARCHAR(40),
    attempts    INTEGER NOT NULL,
    reason      TEXT,
    hold_until  VARCHAR(40),
    updated_at  VARCHAR(40) NOT NULL,
    PRIMARY KEY (plan_id, entity_id)
);

CREATE INDEX authsplit_entities_by_wave ON authsplit_entities (plan_id, wave, entity_id);

CREATE TABLE authsplit_steps (
    ledger_sequence BIGINT NOT NULL PRIMARY KEY,
    plan_id     VARCHAR(100) NOT NULL,
    wave        VARCHAR(200) NOT NULL,
    entity_id   VARCHAR(200) NOT NULL,
    step        VARCHAR(40) NOT NULL,
    outcome     VARCHAR(40) NOT NULL,
    attempt     INTEGER NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    reason      TEXT,
    operator    VARCHAR(200) NOT NULL,
    node        VARCHAR(200) NOT NULL,
    at          VARCHAR(40) NOT NULL
);

CREATE INDEX authsplit_steps_by_entity ON authsplit_steps (plan_id, entity_id, ledger_sequence);
CREATE INDEX authsplit_steps_by_step ON authsplit_steps (plan_id, wave, step, outcome);

CREATE TABLE authsplit_pauses (
    wave      VARCHAR(200) NOT NULL PRIMARY KEY,
    paused    BOOLEAN NOT NULL,
    paused_by VARCHAR(200) NOT NULL,
    at        VARCHAR(40) NOT NULL
);

CREATE TABLE authsplit_backups (
    plan_id         VARCHAR(100) NOT NULL,
    entity_id       VARCHAR(200) NOT NULL,
    wave            VARCHAR(200) NOT NULL,
    taken_at        VARCHAR(40) NOT NULL,
    stored_at       VARCHAR(40) NOT NULL,
    sha256          VARCHAR(80) NOT NULL,
    key_fingerprint VARCHAR(80) NOT NULL,
    nonce           BYTEA NOT NULL,
    ciphertext      BYTEA NOT NULL,
    tag             BYTEA NOT NULL,
    PRIMARY KEY (plan_id, entity_id)
);

CREATE INDEX authsplit_backups_by_entity ON authsplit_backups (entity_id, stored_at);

CREATE TABLE authsplit_ledger (
    sequence      BIGINT NOT NULL PRIMARY KEY,
    at            VARCHAR(40) NOT NULL,
    kind          VARCHAR(40) NOT NULL,
    plan_id       VARCHAR(100) NOT NULL,
    wave          VARCHAR(200),
    entity_id     VARCHAR(200),
    step          VARCHAR(40),
    outcome       VARCHAR(40),
    actor         VARCHAR(200) NOT NULL,
    node          VARCHAR(200) NOT NULL,
    data          TEXT,
    previous_hash VARCHAR(80) NOT NULL,
    hash          VARCHAR(80) NOT NULL
);

CREATE INDEX authsplit_ledger_by_wave ON authsplit_ledger (wave, sequence);
