-- 0100_gdpr.sql — GDPR erasure bookkeeping (art. 17, 18). Written by
-- kopro_gdpr_erase() (lib/gdpr_erase.c); KoproGo's public tables are never
-- altered: what kopro must remember about an erasure lives here.

-- One row per erasure. No identifier in clear: subject_hash is
-- HMAC-SHA-256(KOPRO_GDPR_KEY, "user:" || users.id) and owner_hashes the same
-- for each owners.id, so a restore can find and erase the person again
-- without this table naming them.
CREATE TABLE IF NOT EXISTS kopro.gdpr_tombstones (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    erased_at    timestamptz NOT NULL DEFAULT now(),
    subject_hash text NOT NULL CHECK (subject_hash ~ '^[0-9a-f]{64}$'),
    owner_hashes text[] NOT NULL DEFAULT '{}',
    pseudonym    text NOT NULL,
    counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
    requested_by text
);
CREATE INDEX IF NOT EXISTS gdpr_tombstones_erased_at ON kopro.gdpr_tombstones (erased_at);
COMMENT ON TABLE kopro.gdpr_tombstones IS
    'Erasures (GDPR art. 17) as keyed hashes of the identifiers; re-applied after a restore '
    'so a restored database never brings an erased person back.';

-- Records kept after an erasure for a legal retention period, restricted
-- (art. 18): the purge deletes them once retain_until has passed
-- (NULL: kept as long as the association exists, e.g. votes).
CREATE TABLE IF NOT EXISTS kopro.gdpr_restricted (
    tombstone_id uuid NOT NULL REFERENCES kopro.gdpr_tombstones (id) ON DELETE CASCADE,
    table_name   text NOT NULL,
    row_id       uuid NOT NULL,
    retain_until timestamptz,
    PRIMARY KEY (table_name, row_id, tombstone_id)
);
COMMENT ON TABLE kopro.gdpr_restricted IS
    'Rows of public tables kept restricted (GDPR art. 18) after an erasure, with the end of '
    'their retention (NULL: lifetime of the association).';

-- Litigation holds set by the syndic: an erasure of this user is refused
-- while a hold is active (art. 17(3)(e): establishment or defence of claims).
CREATE TABLE IF NOT EXISTS kopro.gdpr_legal_holds (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    held_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gdpr_legal_holds_user ON kopro.gdpr_legal_holds (user_id);
COMMENT ON TABLE kopro.gdpr_legal_holds IS
    'Litigation flags: while one is active (held_until NULL or in the future) an erasure of '
    'users.id = user_id is refused with reason code litigation.';
