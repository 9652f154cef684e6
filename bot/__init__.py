"""tutorbot: a Discord tutor for study groups learning deep learning with PyTorch."""

__version__ = "0.1.0"
