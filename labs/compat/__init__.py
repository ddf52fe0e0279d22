"""Will a project's dependencies survive free-threading and subinterpreters? The compatibility probe.

For each package and runtime, in a throwaway venv: is there a wheel, does it import, does the GIL stay
off on a free-threaded build (and if not, which extension module turned it on), does it import in a
subinterpreter with its own GIL, and does a known call give the same answer from 4 threads at once.
"""
