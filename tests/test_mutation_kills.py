"""Tests written to kill the mutants `make mutate` found alive in the pure core (RELIABILITY.md section 7):
each states an answer worked out by hand, not read from the code under test."""
