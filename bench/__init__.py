"""Benchmarks (`make bench`): ratios against baselines run side by side in the same process."""
