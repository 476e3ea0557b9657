"""The Picus benchmark (`make bench`); see bench/run.py."""
