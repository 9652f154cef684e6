-- A challenge is revealed once its post has been edited; a closed but unrevealed one is
-- retried (after a failed edit or a crash between closing and editing).
ALTER TABLE challenges ADD COLUMN revealed_at double precision;
UPDATE challenges SET revealed_at = closed_at WHERE closed_at IS NOT NULL;
CREATE INDEX challenges_unrevealed ON challenges (id)
    WHERE closed_at IS NOT NULL AND revealed_at IS NULL;
