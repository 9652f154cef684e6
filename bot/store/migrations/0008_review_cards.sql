-- Spaced review: one FSRS card per member and problem they missed or needed a hint for.
CREATE TABLE review_cards (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    problem_id TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    card TEXT NOT NULL,        -- the fsrs Card as JSON (Card.to_dict)
    due REAL NOT NULL,         -- UNIX seconds: the card's due date, copied out for the index
    last_rating INTEGER,       -- fsrs Rating 1 Again .. 4 Easy; NULL until its first review
    reviews INTEGER NOT NULL DEFAULT 0,  -- rated askings of this problem since the card was made
    created_at REAL NOT NULL,
    PRIMARY KEY (guild_id, member_id, problem_id)
);
CREATE INDEX review_cards_due ON review_cards (guild_id, member_id, due);
