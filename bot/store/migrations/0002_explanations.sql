-- Results of explanation runs, keyed by experiment, parameters, code, torch version and device.
CREATE TABLE explanations (
    cache_key TEXT PRIMARY KEY,
    problem_id TEXT NOT NULL,
    text TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    answer TEXT,
    device TEXT NOT NULL,
    duration_s REAL NOT NULL,
    created_at REAL NOT NULL
);

CREATE TABLE explanation_figures (
    cache_key TEXT NOT NULL REFERENCES explanations (cache_key) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    png BLOB NOT NULL,
    PRIMARY KEY (cache_key, position)
);
