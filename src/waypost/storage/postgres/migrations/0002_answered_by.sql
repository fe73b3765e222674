-- Who answered an interrupt: the identity authentication gave the request that claimed it
-- ("anonymous" without authentication).
ALTER TABLE interrupts ADD COLUMN answered_by text;
