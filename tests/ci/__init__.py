"""flowwarden ci, pre-receive, checks, waivers and audit tests (a package, so that its
conftest does not take the place of tests/conftest.py, which other suites import by name)."""
