-- Leases on work (IWorkLeases): which process runs which wave (or part of one) until when. Times are
-- microseconds since 1970 by the database's own clock, so every node compares against one clock; the
-- token grows with every new taking, so a holder that lost its lease cannot renew it by mistake.
CREATE TABLE authsplit_leases (
    plan_id      VARCHAR(100) NOT NULL,
    wave         VARCHAR(200) NOT NULL,
    part         VARCHAR(40) NOT NULL,
    holder       VARCHAR(300) NOT NULL,
    token        BIGINT NOT NULL,
    acquired_us  BIGINT NOT NULL,
    renewed_us   BIGINT NOT NULL,
    expires_us   BIGINT NOT NULL,
    released_us  BIGINT,
    PRIMARY KEY (plan_id, wave, part)
);
