"""Multi-seed sweeps and the reproduction report: run records, groups, statistics, the paper's
tables, Markdown and plots."""
