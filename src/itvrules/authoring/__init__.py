"""Tools for rule authors: lint, diff, explain and rule tests (``*.cases.yaml``)."""
