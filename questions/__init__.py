"""The question packs shipped with tutorbot: one folder per pack (`<pack>/pack.yaml`).

A package so that `pip install` carries the packs; bot.config finds them here with
importlib.resources when QUESTIONS_PATH is unset.
"""
