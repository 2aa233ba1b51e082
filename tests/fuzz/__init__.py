"""Fuzzing: hypothesis properties and an atheris harness over every parser of server bytes."""
