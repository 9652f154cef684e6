"""Explanation jobs: run an experiment script in a child process and collect its result.

The bot process imports only `runner`, `batch` and `verify` from here; none imports torch. The
child (`python -m bot.worker.child`) and the `lab` helpers it uses are the only code that
does, so a slow or crashing experiment can never stall or take down the bot.
"""
