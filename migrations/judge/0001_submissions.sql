-- The judge's submissions: what was asked (request, JSON) and what came of
-- it (outcome, JSON), with the columns the queries filter and sort on.
CREATE TABLE submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT,
    status TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    started_at_ms INTEGER,
    finished_at_ms INTEGER,
    request TEXT NOT NULL,
    outcome TEXT,
    callbacks TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX submissions_by_status ON submissions (status, seq);
CREATE INDEX submissions_by_owner ON submissions (owner, seq);
CREATE INDEX submissions_by_finish ON submissions (finished_at_ms);
