"""Unverified baselines the benchmarks compare vernat against."""
