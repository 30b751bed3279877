-- The Graph write budget the nodes of a cluster share (Graph's write limit is per app per tenant, not per
-- node): one row per tenant and app, locked while a grant is decided, and the grants of the last window and
-- margin, stamped with the database's clock in microseconds since the Unix epoch. Older grants are pruned
-- as new ones are made; a node gives back (subtracts) writes of a grant it never sent. See AuthSplit.Core.Execution.Cluster.WriteBudgetArithmetic.
CREATE TABLE authsplit_write_budgets (
    tenant VARCHAR(200) NOT NULL,
    app    VARCHAR(200) NOT NULL,
    PRIMARY KEY (tenant, app)
);

CREATE TABLE authsplit_write_grants (
    id         BIGSERIAL PRIMARY KEY,
    tenant     VARCHAR(200) NOT NULL,
    app        VARCHAR(200) NOT NULL,
    granted_at BIGINT NOT NULL,
    writes     INTEGER NOT NULL,
    node       VARCHAR(200) NOT NULL
);

CREATE INDEX authsplit_write_grants_by_time ON authsplit_write_grants (tenant, app, granted_at);
