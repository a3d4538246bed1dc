"""Budget-aware hyperparameter search for a generator: Optuna, pruned on a fidelity score.

Each trial draws hyperparameters from the generator's ``search_space(trial)`` and climbs
budget rungs: a generator that trains in epochs gets ``max_epochs/9``, ``/3`` and all of
them; one that does not (the Gaussian copula) gets a ninth, a third and all of the training
rows. At every rung the fitted generator samples as many rows as the validation split holds
and SDMetrics' quality score against that split (never against the training rows) is
reported to Optuna, whose pruner (successive halving, or Hyperband) stops trials that trail
the others at the same rung. The best completed trial's parameters are written as a recipe
fragment.

The budget — a number of trials and/or minutes — holds: exactly ``trials`` trials are started
(split across the parallel runners), no trial or rung starts after the deadline, so minutes
are overrun by at most one rung's fit. Trials run in parallel on a :mod:`synthkit.parallel`
backend: on Dask they share Optuna's ``DaskStorage`` (the study lives on the scheduler), on
a local pool a journal file.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from synthkit.data.schema import Schema
from synthkit.errors import ConfigError, SynthkitError

#: budget rungs per trial, and the factor between them (the pruner's reduction factor)
RUNGS = 3
ETA = 3
#: the default full-fidelity training length for generators that train in epochs
DEFAULT_MAX_EPOCHS = 27
#: at most this many validation rows are scored (SDMetrics' pair trends grow with rows)
MAX_SCORE_ROWS = 5000
#: a low rung of a row-budgeted generator still sees at least this many rows
MIN_RUNG_ROWS = 200
PRUNERS = ("halving", "hyperband")
#: after this many repeated parameter sets the search space counts as exhausted
MAX_REPEATS = 10


@dataclass(frozen=True)
class TuneJob:
    """Everything a trial needs; shipped once to each worker."""

    generator: str
    train: pl.DataFrame
    validation: pl.DataFrame
    schema: Schema
    max_epochs: int | None
    seed: int
    deadline: float | None  # time.time() after which no rung starts
    fixed: dict[str, Any] = field(default_factory=dict)
    pruner: str = "halving"


@dataclass(frozen=True)
class Runner:
    """One sequential stream of trials on one worker."""

    study_name: str
    storage: Any
    trials: int | None
    seed: int


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError("synthkit tune needs Optuna: pip install 'synthkit[dask]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # DaskStorage warns "experimental" each time a worker unpickles it
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def make_pruner(name: str):
    optuna = _optuna()
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=ETA, min_early_stopping_rate=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=ETA ** (RUNGS - 1), reduction_factor=ETA)
    raise ConfigError(f"unknown pruner {name!r} (pruners: {', '.join(PRUNERS)})")


def rung_budget(job: TuneJob, rung: int) -> dict[str, int]:
    """What rung ``rung`` (0-based) trains with: ``{"epochs": E}`` or ``{"rows": N}``."""
    fraction = ETA ** (rung - (RUNGS - 1))
    if job.max_epochs is not None:
        return {"epochs": max(1, round(job.max_epochs * fraction))}
    rows = job.train.height
    return {"rows": rows if rung == RUNGS - 1 else min(rows, max(MIN_RUNG_ROWS, round(rows * fraction)))}


def score_rung(job: TuneJob, params: dict[str, Any], rung: int) -> float:
    """Fit at rung ``rung``'s budget and score against the validation split."""
    from synthkit import generators
    from synthkit.validators.fidelity import sdmetrics_quality

    budget = rung_budget(job, rung)
    settings = {**job.fixed, **params}
    train = job.train
    if "epochs" in budget:
        settings["epochs"] = budget["epochs"]
    elif budget["rows"] < train.height:
        train = train.sample(n=budget["rows"], seed=job.seed)
    generator = generators.build(job.generator, settings, seed=job.seed).fit(train, schema=job.schema)
    synthetic = generator.sample(job.validation.height, seed=job.seed)
    return sdmetrics_quality(job.validation, synthetic, job.schema)


def objective(job: TuneJob, trial) -> float:
    optuna = _optuna()
    from synthkit import generators

    params = generators.get(job.generator).search_space(trial)
    plain = _plain(params)
    trial.set_user_attr("parameters", plain)
    # TPE repeats points of small spaces; a repeat would only spend budget on a known answer
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.RUNNING)
    earlier = [t for t in trial.study.get_trials(deepcopy=False, states=states) if t.number < trial.number]
    for other in earlier:
        if other.user_attrs.get("parameters") == plain:
            trial.set_user_attr("stopped", f"same parameters as trial {other.number}")
            if sum(1 for t in earlier if t.user_attrs.get("stopped", "").startswith("same")) >= MAX_REPEATS:
                trial.study.stop()  # the space is exhausted: stop before a time budget fills with repeats
            raise optuna.TrialPruned("repeat")
    value = math.nan
    for rung in range(RUNGS):
        if job.deadline is not None and time.time() >= job.deadline:
            trial.set_user_attr("stopped", "budget")
            raise optuna.TrialPruned("the time budget ran out")
        try:
            value = score_rung(job, params, rung)
        except SynthkitError as error:
            # a setting the generator rejects (or cannot train with) is a bad trial, not a crash
            trial.set_user_attr("error", str(error).splitlines()[0][:300])
            raise optuna.TrialPruned(str(error)) from None
        trial.report(value, step=ETA**rung)
        trial.set_user_attr("rungs", rung + 1)
        if rung < RUNGS - 1 and trial.should_prune():
            raise optuna.TrialPruned()
    return value


def run_trials(job: TuneJob, runner: Runner) -> int:
    """One runner: its share of trials, one after another, until the deadline (on a worker)."""
    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(
            study_name=runner.study_name, storage=runner.storage,
            sampler=optuna.samplers.TPESampler(seed=runner.seed), pruner=make_pruner(job.pruner),
        )
        timeout = None if job.deadline is None else max(0.0, job.deadline - time.time())
        if runner.trials == 0 or timeout == 0.0:
            return 0
        study.optimize(lambda trial: objective(job, trial), n_trials=runner.trials, timeout=timeout,
                       gc_after_trial=True, catch=())
    return runner.trials or 0


def split_validation(frame: pl.DataFrame, fraction: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    if not 0 < fraction < 1:
        raise ConfigError(f"validation fraction must be between 0 and 1, not {fraction}")
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    n_val = max(1, round(frame.height * fraction))
    if frame.height - n_val < 2:
        raise ConfigError(f"the data has {frame.height} rows: too few to split off a validation set")
    return shuffled.slice(n_val), shuffled.head(min(n_val, MAX_SCORE_ROWS))


@dataclass
class TuneResult:
    generator: str
    best_params: dict[str, Any]
    best_value: float
    best_trial: int
    trials: list[dict[str, Any]]
    seconds: float
    max_epochs: int | None

    @property
    def counts(self) -> dict[str, int]:
        return _count(self.trials)

    def fragment(self) -> dict[str, Any]:
        """The recipe fragment: ``generate: {generator, parameters}``."""
        params = dict(self.best_params)
        if self.max_epochs is not None:
            params["epochs"] = self.max_epochs
        return {"generate": {"generator": self.generator, "parameters": params}}

    def to_yaml(self, source: str = "") -> str:
        import yaml

        counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(self.counts.items()))
        header = (
            f"# synthkit tune: {self.generator}{' on ' + source if source else ''}: {len(self.trials)} trials "
            f"({counts}) in {self.seconds:.0f} s\n"
            f"# best SDMetrics quality on the validation split: {self.best_value:.4f} (trial {self.best_trial})\n"
        )
        return header + yaml.safe_dump(self.fragment(), sort_keys=False)


def tune(
    data: pl.DataFrame,
    generator: str,
    *,
    trials: int | None = None,
    minutes: float | None = None,
    schema: Schema | None = None,
    max_epochs: int | None = None,
    validation: float = 0.25,
    pruner: str = "halving",
    seed: int = 0,
    backend=None,
    fixed: dict[str, Any] | None = None,
) -> TuneResult:
    """Search ``generator``'s hyperparameters on ``data`` within ``trials`` and/or ``minutes``.

    ``backend`` (a :mod:`synthkit.parallel` backend) runs one stream of trials per worker;
    without one, trials run here one after another.
    """
    from synthkit import generators

    optuna = _optuna()
    klass = generators.get(generator)
    if trials is None and minutes is None:
        raise ConfigError("give a budget: a number of trials and/or minutes")
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials <= 0):
        raise ConfigError(f"trials must be a positive integer, not {trials!r}")
    if minutes is not None and not minutes > 0:
        raise ConfigError(f"minutes must be positive, not {minutes!r}")
    if pruner not in PRUNERS:
        raise ConfigError(f"unknown pruner {pruner!r} (pruners: {', '.join(PRUNERS)})")
    trains_in_epochs = "epochs" in klass._param_names()
    if max_epochs is not None and not trains_in_epochs:
        raise ConfigError(f"{generator} does not train in epochs; its budget rungs are training rows")
    if max_epochs is not None and max_epochs < ETA ** (RUNGS - 1):
        raise ConfigError(f"max epochs must be at least {ETA ** (RUNGS - 1)} (one per lowest rung), not {max_epochs}")
    klass.search_space(_ProbeTrial())  # a generator without a search space fails now, not on a worker
    schema = schema if schema is not None else Schema.infer(data)
    train, held_out = split_validation(data, validation, seed)
    started = time.time()
    job = TuneJob(
        generator=generator, train=train, validation=held_out, schema=schema,
        max_epochs=(max_epochs or DEFAULT_MAX_EPOCHS) if trains_in_epochs else None, seed=seed,
        deadline=started + minutes * 60 if minutes is not None else None, fixed=dict(fixed or {}), pruner=pruner,
    )
    name = f"synthkit-tune-{generator}-{uuid.uuid4().hex[:8]}"
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="synthkit-tune-") as scratch:
        warnings.simplefilter("ignore")
        storage, streams = _storage(backend, scratch)
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
        runners = [Runner(name, storage, share, seed + i) for i, share in enumerate(_shares(trials, streams))]
        if backend is None or backend.name == "serial":
            for runner in runners:
                run_trials(job, runner)
        else:
            backend.map(run_trials, runners, shared=job)
        frozen = study.get_trials(deepcopy=False)
    seconds = time.time() - started
    rows = [_trial_row(t, started) for t in frozen]
    complete = [t for t in frozen if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        shown = ", ".join(f"{n} {s.lower()}" for s, n in sorted(_count(rows).items())) or "none started"
        raise SynthkitError(
            f"no trial finished within the budget ({shown}); give more --minutes or --trials, "
            f"or a smaller --epochs"
        )
    best = max(complete, key=lambda t: t.value)
    return TuneResult(
        generator=generator, best_params=best.user_attrs["parameters"], best_value=float(best.value),
        best_trial=best.number, trials=rows, seconds=seconds, max_epochs=job.max_epochs,
    )


class _ProbeTrial:
    """Answers every suggestion with its first choice: checks a search space exists and runs."""

    def suggest_categorical(self, name, choices):
        return choices[0]

    def suggest_int(self, name, low, high, **kwargs):
        return low

    def suggest_float(self, name, low, high, **kwargs):
        return low


def _storage(backend, scratch: str) -> tuple[Any, int]:
    """The study's storage for ``backend`` and how many trial streams run at once."""
    optuna = _optuna()
    if backend is None or backend.name == "serial":
        return optuna.storages.InMemoryStorage(), 1
    if backend.name == "dask":
        try:
            from optuna_integration.dask import DaskStorage
        except ImportError:
            raise ConfigError("parallel tuning on Dask needs optuna-integration: pip install 'synthkit[dask]'") from None
        return DaskStorage(client=backend.client), backend.workers
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(os.path.join(scratch, "study.log"))), backend.workers


def _shares(trials: int | None, streams: int) -> list[int | None]:
    if trials is None:
        return [None] * streams
    streams = min(streams, trials)
    return [trials // streams + (1 if i < trials % streams else 0) for i in range(streams)]


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _trial_row(trial, started: float) -> dict[str, Any]:
    return {
        "number": trial.number,
        "start_s": trial.datetime_start.timestamp() - started if trial.datetime_start else None,
        "state": trial.state.name,
        "value": trial.value if trial.value is not None else (
            trial.intermediate_values[max(trial.intermediate_values)] if trial.intermediate_values else None
        ),
        "rungs": trial.user_attrs.get("rungs", 0),
        "seconds": trial.duration.total_seconds() if trial.duration else None,
        "parameters": trial.user_attrs.get("parameters", {}),
        "note": trial.user_attrs.get("stopped") or trial.user_attrs.get("error", ""),
    }


def _count(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row["state"]] = out.get(row["state"], 0) + 1
    return out


def write_fragment(result: TuneResult, path: str | os.PathLike, *, source: str = "") -> Path:
    """Write the recipe fragment atomically."""
    from synthkit.data.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(result.to_yaml(source))
    return path


__all__ = ["DEFAULT_MAX_EPOCHS", "PRUNERS", "TuneResult", "rung_budget", "tune", "write_fragment"]
