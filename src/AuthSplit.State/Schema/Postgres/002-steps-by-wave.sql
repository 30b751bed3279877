-- A new plan of a wave carries over what earlier plans of the wave did (GetDoneStepsOfOtherPlansAsync):
-- read by wave, not by plan.
CREATE INDEX authsplit_steps_by_wave ON authsplit_steps (wave, outcome, ledger_sequence);
