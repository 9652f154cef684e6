"""`tutorbot demo`: starts, serves its page, lets its classmates play one round, and stops."""

import asyncio
import sqlite3
import urllib.request

from bot.cli.demo import CLASSMATES, run_demo


async def test_the_demo_serves_its_page_and_classmates_play_a_round(config):
    announced: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def open_page() -> int:
        address = (await announced).split("#")[0]
        assert address.startswith("http://127.0.0.1:")
        return await asyncio.to_thread(lambda: urllib.request.urlopen(address).status)

    page = asyncio.create_task(open_page())
    assert await run_demo(config, speed=240, rounds=1, on_url=announced.set_result,
                          seed=4) == 0
    assert await page == 200
    with sqlite3.connect(config.database_path) as conn:
        answered = conn.execute("SELECT count(DISTINCT member_id) FROM attempts").fetchone()[0]
        closed = conn.execute("SELECT count(*) FROM challenges WHERE closed_at IS NOT NULL"
                              ).fetchone()[0]
    assert answered == len(CLASSMATES) and closed == 1


async def test_the_demos_schedule_posts_a_challenge_by_itself(config):
    assert await run_demo(config, speed=240, rounds=2, on_url=lambda _: None, seed=4) == 0
    with sqlite3.connect(config.database_path) as conn:
        starters = [row[0] for row in conn.execute(
            "SELECT starter_id FROM challenges ORDER BY id")]
        fired = conn.execute("SELECT job, outcome FROM job_fires").fetchall()
    assert starters[1] == 0  # the second challenge was nobody's: the schedule's
    assert fired == [("schedule:1", "posted")]
