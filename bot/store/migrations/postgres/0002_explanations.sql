-- Results of explanation runs, keyed by experiment, parameters, code, torch version and device.
CREATE TABLE explanations (
    cache_key text PRIMARY KEY,
    problem_id text NOT NULL,
    text text NOT NULL,
    metrics_json text NOT NULL,
    answer text,
    device text NOT NULL,
    duration_s double precision NOT NULL,
    created_at double precision NOT NULL
);

CREATE TABLE explanation_figures (
    cache_key text NOT NULL REFERENCES explanations (cache_key) ON DELETE CASCADE,
    position integer NOT NULL,
    name text NOT NULL,
    png bytea NOT NULL,
    PRIMARY KEY (cache_key, position)
);
