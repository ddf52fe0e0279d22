"""Executing a model on a workload: the course's patterns over the model interface (``patterns``), and one
verified run of a workload's tasks (``lab``). Above the models and workloads it runs; below the planner
and the measuring side that call it."""
