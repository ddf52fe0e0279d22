"""The costs suite: what choosing a model costs beyond its speedup curve.

start-up (``labs.measure.job --lab-startup`` and ``startup/asyncio-task``), data transfer round
trips per channel and payload size (``transfer``), memory per worker (``memory``), the latency
ladder (``ladder``) and race conditions (``races``). ``labs.measure.costs.job`` runs one of them as a
pyperf benchmark.
"""
