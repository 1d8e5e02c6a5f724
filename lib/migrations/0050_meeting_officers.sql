-- 0050_meeting_officers.sql — the president and secretary of a general assembly.
-- KoproGo has no columns for them; the minutes (art. 3.87 §10 practice) name
-- them. Written by whoever runs the assembly (API, psql); read by
-- kopro_assembly_load_db(). No foreign key to public.meetings on purpose: a
-- foreign key would add triggers to KoproGo's table, which kopro never alters.

CREATE TABLE IF NOT EXISTS kopro.meeting_officers (
    meeting_id     uuid PRIMARY KEY,
    president_name text CHECK (president_name IS NULL OR length(president_name) BETWEEN 1 AND 255),
    secretary_name text CHECK (secretary_name IS NULL OR length(secretary_name) BETWEEN 1 AND 255),
    updated_by     uuid,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE kopro.meeting_officers IS
    'President and secretary of a general assembly (public.meetings.id), named in the minutes. '
    'A missing row leaves blank lines to fill in by hand.';
