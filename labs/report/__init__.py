"""The report: REPORT.md and plots, from stored results only."""
