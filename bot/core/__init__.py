"""The Discord-free domain: challenge lifecycle, attempts, scoring, streaks and badges."""
