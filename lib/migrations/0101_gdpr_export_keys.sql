-- 0101_gdpr_export_keys.sql — per-export keys of the GDPR export archives
-- (GDPR art. 15, 20, 32). jobs/gdpr_export.c encrypts each archive in the
-- document store with a fresh random 256-bit key (ChaCha20-Poly1305, framing
-- in lib/include/kopro/gdpr.h, kopro_gdpr_seal()) and keeps the key only
-- here: deleting the row (gdpr.expire after 7 days, or an operator) destroys
-- the archive even where a copy of the file survives (a backup of the store).
CREATE TABLE IF NOT EXISTS kopro.gdpr_export_keys (
    job_id     uuid PRIMARY KEY,
    key        bytea NOT NULL CHECK (octet_length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS gdpr_export_keys_expires_at ON kopro.gdpr_export_keys (expires_at);
COMMENT ON TABLE kopro.gdpr_export_keys IS
    'Keys of the encrypted GDPR export archives (one per gdpr.export job); deleting a key '
    'destroys its archive (crypto-shredding). Deleted by gdpr.expire once expires_at has passed.';
