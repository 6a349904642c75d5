"""`evosearch index --ray`: the same plan, the streams encoded on a Ray cluster.

Streams are the unit of parallelism: each is sequential (its memory carries from one segment
to the next) and streams are independent. The driver plans exactly as `index` does (which files
and streams are new or changed, from which snapshot each resumes), then sends whole streams to
a pool of Ray actors, one encoder loaded once per actor, each running the same chunked
sequential batching as a single process (encode.py). Each actor writes its streams' segment and
snapshot rows as lance fragments straight into the index's tables (local or object store) and
returns only their metadata; the driver commits a group's fragments once per table, then drops
replaced rows and writes the source rows (Indexer._write_group_elsewhere). A kill of the driver or
a worker before a commit leaves data files no version holds; after it, rows the next run checks
and completes.

Ray is an optional extra (`pip install 'evosearch[ray]'`): nothing else imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .encode import StreamJob
from .errors import EvosearchError
from .indexer import WrittenStreams

# Streams sent to an actor per call: enough to fill its batches, few enough that progress advances
# while the others are encoded (docs/benchmarks.md, "index --ray"). Each call writes one fragment
# per table, so this also sets the fragment count (docs/teams.md).
STREAMS_PER_TASK = 32
# Calls in flight per actor, so an actor never idles waiting for the driver.
TASKS_IN_FLIGHT = 2


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise EvosearchError("--ray needs Ray, which is not installed", "pip install 'evosearch[ray]'") from e
    return ray


def connect(address: str | None, workers: int | None) -> None:
    """Join the cluster at address ("auto": the one `ray start` made here), or start a local one
    with `workers` CPUs. The EVOSEARCH_* settings travel to the workers so they load the same encoder."""
    ray = _import_ray()
    if ray.is_initialized():
        return
    env = {k: v for k, v in os.environ.items() if k.startswith(("EVOSEARCH_", "HF_"))}
    try:
        if address and address != "local":
            ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), runtime_env={"env_vars": env}, log_to_driver=False, include_dashboard=False)
    except Exception as e:  # ConnectionError, a bad address, a version mismatch
        raise EvosearchError(f"cannot reach a Ray cluster at {address or 'a new local one'}: {e}", "check --ray-address, or leave it out to start a local cluster") from e


def worker_count() -> int:
    """Encoder actors to start: one per GPU when the cluster has GPUs, else one per CPU."""
    ray = _import_ray()
    resources = ray.cluster_resources()
    return int(resources.get("GPU", 0)) or max(1, int(resources.get("CPU", 1)))


class _EncoderWorker:
    """One encoder, loaded once; encodes whole streams, sequentially within each, and writes their
    rows as fragments of the index's tables."""

    def __init__(self, model_id: str | None = None):
        from .encoder import load_encoder, model_name

        self.encoder = load_encoder(model_name(model_id) if model_id else None)  # the index's base model
        self.model_id = self.encoder.model_id

    def write(self, jobs: list[StreamJob], targets: dict) -> tuple[int, dict[str, list]]:
        from .indexer import write_stream_fragments

        return write_stream_fragments(jobs, self.encoder, targets)


class RayWriter:
    """Encodes a group's streams on Ray actors, which write the rows as fragments (Indexer.writer)."""

    def __init__(self, model_id: str, workers: int | None = None):
        ray = _import_ray()
        self.ray = ray
        count = workers or worker_count()
        gpus = 1 if ray.cluster_resources().get("GPU", 0) else 0
        actor = ray.remote(num_cpus=0 if gpus else 1, num_gpus=gpus)(_EncoderWorker)
        self.actors = [actor.remote(model_id) for _ in range(count)]
        models = set(ray.get([a.__ray_call__.remote(lambda self: self.model_id) for a in self.actors]))
        if models != {model_id}:
            raise EvosearchError(f"the Ray workers load encoder {sorted(models)}, the index holds {model_id}", "install the same evosearch on every worker")

    def __call__(self, jobs: list[StreamJob], targets: dict) -> Iterator[WrittenStreams]:
        """Yield, as each call returns, which jobs it wrote, how many rows, and their fragments."""
        ray = self.ray
        # Small runs still spread over every actor; large ones go in calls of STREAMS_PER_TASK.
        size = max(1, min(STREAMS_PER_TASK, -(-len(jobs) // (len(self.actors) * TASKS_IN_FLIGHT))))
        queue = [list(range(i, min(i + size, len(jobs)))) for i in range(0, len(jobs), size)]
        running: dict = {}  # object ref -> (actor, job indices)
        idle = [a for a in self.actors for _ in range(TASKS_IN_FLIGHT)]
        while queue or running:
            while queue and idle:
                chunk = queue.pop(0)
                actor = idle.pop(0)
                running[actor.write.remote([jobs[k] for k in chunk], targets)] = (actor, chunk)
            done, _ = ray.wait(list(running), num_returns=1)
            actor, chunk = running.pop(done[0])
            idle.append(actor)
            try:
                segments, fragments = ray.get(done[0])
            except ray.exceptions.RayError as e:
                raise EvosearchError(
                    f"a Ray worker failed while encoding: {type(e).__name__}",
                    "run `evosearch index` again: what was written is kept and the rest is encoded",
                ) from e
            yield WrittenStreams(chunk, segments, fragments)

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
