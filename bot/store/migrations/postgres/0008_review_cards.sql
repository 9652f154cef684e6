-- Spaced review: one FSRS card per member and problem they missed or needed a hint for.
CREATE TABLE review_cards (
    guild_id bigint NOT NULL,
    member_id bigint NOT NULL,
    problem_id text NOT NULL,
    pack_id text NOT NULL,
    card text NOT NULL,        -- the fsrs Card as JSON (Card.to_dict)
    due double precision NOT NULL,         -- UNIX seconds: the card's due date, copied out for the index
    last_rating integer,       -- fsrs Rating 1 Again .. 4 Easy; NULL until its first review
    reviews integer NOT NULL DEFAULT 0,  -- rated askings of this problem since the card was made
    created_at double precision NOT NULL,
    PRIMARY KEY (guild_id, member_id, problem_id)
);
CREATE INDEX review_cards_due ON review_cards (guild_id, member_id, due);
