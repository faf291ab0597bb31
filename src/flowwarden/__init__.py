"""flowwarden: a Git Flow branch policy for machine-learning repositories, enforced by git hooks."""
__version__ = "0.1.0"
