-- The Graph write limit a shared budget was created with (the first node's Target:Limits): a node configured
-- with another limit is refused, since two nodes with different limits could together exceed the smaller one.
-- A budget made before this script has none yet and takes the limit of the next node that asks it.
ALTER TABLE authsplit_write_budgets ADD COLUMN writes_per_window INTEGER;
ALTER TABLE authsplit_write_budgets ADD COLUMN window_ms BIGINT;
