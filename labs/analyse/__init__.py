"""Analysis of stored runs only: typed views, statistics, comparisons."""
