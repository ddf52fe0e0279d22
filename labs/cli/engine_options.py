"""The scale-out engines' options, shared by `run` and `bench`: use a real cluster instead of a local one."""

from __future__ import annotations

import argparse
import os

from labs.core.errors import UsageError


def add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dask-scheduler",
        metavar="tcp://HOST:PORT",
        help="model dask: use this running scheduler and its workers (default: a LocalCluster; "
        "env LABS_DASK_SCHEDULER)",
    )
    parser.add_argument(
        "--celery-broker",
        metavar="redis://HOST:PORT/DB",
        help="model celery: use this Redis and the workers consuming from it (default: a local "
        "redis-server and N workers; env LABS_CELERY_BROKER)",
    )


def apply(args: argparse.Namespace) -> None:
    """Check the addresses, then pass them to the models (and to pyperf's workers) in the environment."""
    from labs.models import celery_workers, dask_cluster

    if args.dask_scheduler is not None:
        os.environ[dask_cluster.SCHEDULER_ENV] = dask_cluster.check_address(args.dask_scheduler)
    elif os.environ.get(dask_cluster.SCHEDULER_ENV):
        dask_cluster.check_address(os.environ[dask_cluster.SCHEDULER_ENV])
    if args.celery_broker is not None:
        os.environ[celery_workers.BROKER_ENV] = celery_workers.check_broker(args.celery_broker)
    elif os.environ.get(celery_workers.BROKER_ENV):
        celery_workers.check_broker(os.environ[celery_workers.BROKER_ENV])
    # Well-formed, but for a model this command does not run: said, rather than silently ignored.
    asked = _models_asked(args)
    for option, model in (("dask_scheduler", "dask"), ("celery_broker", "celery")):
        if getattr(args, option) is not None and asked is not None and model not in asked:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} is for model {model}, which this command does not run (-m {model})")


def _models_asked(args: argparse.Namespace) -> set[str] | None:
    """The models named with -m (``run`` takes one, ``bench`` comma lists), None for all of them."""
    model = getattr(args, "model", None)
    if model is None:
        return None
    values = [model] if isinstance(model, str) else model
    return {name.strip() for value in values for name in value.split(",") if name.strip()}
