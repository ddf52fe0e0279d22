"""python -m labs COMMAND: one module per command, and the exit-code contract."""
