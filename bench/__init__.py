"""Benchmarks behind ``make bench``; each figure is named as its issue names it."""
