"""Running a recipe: a run folder that records what was done, with what, and what came out.

::

    runs/mammography/
      manifest.json        the resolved recipe, input SHA-256, seeds, versions, per-step status and timings
      synthetic.parquet    the generate step's rows (images: synthetic.npz + synthetic.png)
      report.html/.json    the validation report
      replicates/0000.json one file per bootstrap replicate (scores of every arm)
      results.json         per arm: mean and interval; per augmented arm: the paired difference to real
      uplift.png           the forest plot of results.json

Steps: ``data`` (read, split: always redone, it is cheap and deterministic), ``generate``,
``validate``, ``train`` (the bootstrap replicates), ``results``. With ``resume`` a step that
finished is skipped, and ``train`` runs only the replicates that have no file yet; a run
whose recipe (anything but ``backend``) or input data changed is refused, never resumed.
Every file is written atomically, the manifest after each step.

Exit status (:attr:`RunOutcome.exit_code`): 0 done; 1 a validation gate failed — the
training step still runs unless ``validate.on_fail: stop``; 2 (raised as
:class:`~synthkit.errors.SynthkitError`) a bad recipe or input.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthkit.data.io import atomic_path
from synthkit.errors import ConfigError
from synthkit.recipes.schema import Recipe, RecipeError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RESULTS = "results.json"
PLOT = "uplift.png"
REPLICATES = "replicates"


@dataclass
class RunOutcome:
    """What a run left behind."""

    folder: Path
    exit_code: int  # 0 done, 1 a validation gate failed
    results: dict[str, Any] | None
    report_passed: bool | None
    skipped: list[str] = field(default_factory=list)  # steps skipped because an earlier run finished them
    replicates_run: int = 0


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, payload: Any) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


class Manifest:
    """``manifest.json``: written at the start, after every step, and at the end."""

    def __init__(self, folder: Path, payload: dict[str, Any]):
        self.folder = folder
        self.payload = payload

    @property
    def steps(self) -> dict[str, Any]:
        return self.payload["steps"]

    def done(self, step: str) -> bool:
        return self.steps.get(step, {}).get("status") == "done"

    def begin(self, step: str) -> float:
        self.steps[step] = {"status": "running", "started": _now()}
        self.save()
        return time.perf_counter()

    def finish(self, step: str, clock: float, **extra: Any) -> None:
        self.steps[step].update(status="done", finished=_now(), seconds=round(time.perf_counter() - clock, 3), **extra)
        self.save()

    def save(self) -> None:
        write_json(self.folder / MANIFEST, self.payload)


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """``key.path: old → new`` for every value that differs."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            out += _diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    return [] if old == new else [f"{prefix}: {json.dumps(old, default=str)} → {json.dumps(new, default=str)}"]


def _open_folder(folder: Path, recipe: Recipe, inputs: dict[str, Any], resume: bool) -> dict[str, Any] | None:
    """The earlier manifest to resume from (None for a fresh run); refuses what must not be mixed."""
    manifest = folder / MANIFEST
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder}: is a file, not a folder")
    if not manifest.is_file():
        if folder.is_dir() and any(p for p in folder.iterdir() if not p.name.startswith(".")):
            raise ConfigError(f"--out {folder}: the folder is not empty and holds no run (no {MANIFEST}); choose another")
        return None
    if not resume:
        raise ConfigError(f"--out {folder}: already holds a run; pass --resume to continue it, or choose another --out")
    try:
        old = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"{manifest}: cannot be read ({error}); start a fresh run in another folder") from None
    if old.get("recipe_sha256") != recipe.fingerprint():
        changes = _diff({k: v for k, v in old.get("recipe", {}).items() if k != "backend"},
                        {k: v for k, v in recipe.resolved().items() if k != "backend"})
        shown = "; ".join(changes[:6]) + (f"; … ({len(changes)} changes)" if len(changes) > 6 else "")
        raise ConfigError(f"--resume: the recipe changed since the run in {folder} ({shown or 'different recipe'}); "
                          "run it into a new --out folder")
    changed = [key for key, now in inputs.items() if old.get("inputs", {}).get(key, {}).get("sha256") != now["sha256"]]
    if changed:
        raise ConfigError(f"--resume: the {' and '.join(changed)} file{'s' if len(changed) > 1 else ''} changed since the "
                          f"run in {folder} (SHA-256 differs); run it into a new --out folder")
    return old


def run_recipe(recipe: Recipe, out: str | os.PathLike, *, resume: bool = False, recipe_file: str | None = None,
               echo: Callable[[str], None] | None = None, show_progress: bool = False) -> RunOutcome:
    """Run ``recipe`` into the folder ``out``; see the module docstring."""
    from synthkit import __version__
    from synthkit._runtime import package_versions
    from synthkit.recipes.check import inspect_recipe
    from synthkit.recipes.data import run_seeds

    say = echo or (lambda text: None)
    folder = Path(out)
    clock = time.perf_counter()
    errors, data, split = inspect_recipe(recipe)
    if errors:
        raise RecipeError(recipe_file or recipe.label(), errors)
    inputs = _inputs(recipe, data)
    old = _open_folder(folder, recipe, inputs, resume)
    folder.mkdir(parents=True, exist_ok=True)
    seeds = run_seeds(recipe.seed)
    bootstrap = recipe.train.bootstrap if recipe.train is not None else 0
    from synthkit._runtime import child_seeds

    replicate_seeds = child_seeds(seeds["bootstrap"], bootstrap) if bootstrap else []
    payload = old or {
        "format": FORMAT_VERSION,
        "synthkit": __version__,
        "name": recipe.label(Path(recipe_file).stem if recipe_file else "recipe"),
        "recipe_file": str(Path(recipe_file).resolve()) if recipe_file else None,
        "recipe_sha256": recipe.fingerprint(),
        "recipe": recipe.resolved(),
        "inputs": inputs,
        "seeds": {"recipe": recipe.seed, **seeds, "replicates": replicate_seeds},
        "steps": {},
        "runs": [],
    }
    payload["versions"] = package_versions()
    payload["recipe"]["backend"] = recipe.resolved()["backend"]
    payload["status"] = "running"
    run_record = {"started": _now(), "resumed": old is not None, "skipped": []}
    payload["runs"].append(run_record)
    manifest = Manifest(folder, payload)
    manifest.save()
    name = payload["name"]
    outcome = RunOutcome(folder, 0, None, None)
    step = "data"
    try:
        started = manifest.begin("data")
        manifest.finish("data", started, split=split.describe(data),
                        source=data.source, rows=data.rows, notes=data.notes)
        say(f"data: {data.source}, {data.rows:,} rows; training split {split.train.size:,}, holdout {split.holdout.size:,}")
        train, holdout = data.take(split.train), data.take(split.holdout)

        synthetic = None
        if recipe.generate is not None:
            step = "generate"
            synthetic = _step(manifest, "generate", run_record, lambda: _generate(recipe, data, train, seeds, folder, say),
                              lambda: _load_synthetic(folder, data), say)
        if recipe.validate_section is not None:
            step = "validate"
            reused = "generate" in run_record["skipped"]  # a fresh synthetic table needs a fresh report
            if reused and manifest.done("validate") and all((folder / f).is_file() for f in ("report.html", "report.json")):
                run_record["skipped"].append("validate")
                say("validate: done in an earlier run, skipped")
            else:
                started = manifest.begin("validate")
                passed, failed = _validate(recipe, data, train, holdout, synthetic, seeds, folder, name)
                manifest.finish("validate", started, passed=passed, failed_gates=failed,
                                outputs=["report.html", "report.json"])
                say(f"validate: {'every gate passed' if passed else 'FAILED: ' + ', '.join(failed)} → report.html")
            outcome.report_passed = bool(manifest.steps["validate"]["passed"])
        gate_stop = outcome.report_passed is False and recipe.validate_section.on_fail == "stop"
        if recipe.train is not None and gate_stop:
            manifest.steps["train"] = {"status": "skipped", "reason": "a validation gate failed and validate.on_fail is stop"}
            say("train: skipped (a validation gate failed; validate.on_fail: stop)")
        elif recipe.train is not None:
            step = "train"
            replicates, outcome.replicates_run = _train(recipe, data, split, replicate_seeds, manifest, run_record,
                                                        folder, say, show_progress)
            step = "results"
            outcome.results = _step(manifest, "results", run_record,
                                    lambda: _write_results(recipe, data, split, replicates, manifest, name, folder),
                                    lambda: json.loads((folder / RESULTS).read_text()), say,
                                    force="train" not in run_record["skipped"])  # new replicates, new results
    except BaseException as error:
        manifest.steps.setdefault(step, {})["status"] = "failed"
        manifest.steps[step]["error"] = (str(error).splitlines() or [type(error).__name__])[0][:500]
        payload["status"] = "failed" if not isinstance(error, KeyboardInterrupt) else "interrupted"
        run_record["finished"] = _now()
        manifest.save()
        raise
    outcome.exit_code = 1 if outcome.report_passed is False else 0
    outcome.skipped = list(run_record["skipped"])
    payload["status"] = "gate_failed" if outcome.exit_code == 1 else "done"
    run_record["finished"] = _now()
    run_record["seconds"] = round(time.perf_counter() - clock, 3)
    manifest.save()
    return outcome


def _step(manifest: Manifest, name: str, run_record: dict, work: Callable[[], Any], reload: Callable[[], Any],
          say: Callable[[str], None], *, force: bool = False) -> Any:
    """Run a step, or reuse what an earlier run left (its outputs must still be there)."""
    outputs = manifest.steps.get(name, {}).get("outputs", [])
    if not force and manifest.done(name) and outputs and all((manifest.folder / f).exists() for f in outputs):
        run_record["skipped"].append(name)
        say(f"{name}: done in an earlier run, skipped")
        return reload()
    started = manifest.begin(name)
    value, extra = work()
    manifest.finish(name, started, **extra)
    return value


def _inputs(recipe: Recipe, data) -> dict[str, Any]:
    from synthkit.data.io import file_sha256

    out: dict[str, Any] = {"data": {"source": data.source, "sha256": data.sha256}}
    for key, value in (("schema", recipe.data.schema_file),
                       ("policy", recipe.validate_section.policy if recipe.validate_section else None)):
        if isinstance(value, str):
            out[key] = {"path": value, "sha256": file_sha256(value)}
    return out


# -------------------------------------------------------------------------------------------
# generate and validate
# -------------------------------------------------------------------------------------------

def _generate(recipe: Recipe, data, train, seeds: dict[str, int], folder: Path, say) -> tuple[Any, dict[str, Any]]:
    from synthkit.recipes.bootstrap import one_thread

    # one thread, as in the replicates: the same rows on any machine, and no oversubscribed cores
    with one_thread():
        return _generate_rows(recipe, data, train, seeds, folder, say)


def _generate_rows(recipe: Recipe, data, train, seeds: dict[str, int], folder: Path, say) -> tuple[Any, dict[str, Any]]:
    from synthkit.recipes.bootstrap import image_generator, make_generator

    section = recipe.generate
    seed = seeds["generate"]
    started = time.perf_counter()
    if data.modality == "images":
        from synthkit.augment.images import generate_images
        from synthkit.recipes.bootstrap import _as_tensor, _channels_last
        from synthkit.recipes.data import Images
        from synthkit.recipes.plot import image_grid

        generator = image_generator(section.generator, section.parameters, train, seed)
        fit_s = time.perf_counter() - started
        rows = section.rows or len(train)
        labels = train.labels if rows == len(train) else np.sort(np.random.default_rng(seed).choice(train.labels, rows))
        new = generate_images(generator, labels, seed=seed, like=_as_tensor(train.nchw())).numpy()
        synthetic = Images(_channels_last(new, train.images.ndim).astype(np.float32), labels.astype(np.int64))
        with atomic_path(folder / "synthetic.npz") as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, images=synthetic.images, labels=synthetic.labels)
        image_grid(synthetic.images, synthetic.labels, folder / "synthetic.png")
        outputs = ["synthetic.npz", "synthetic.png"]
    else:
        from synthkit.data import write_table

        generator = make_generator(section.generator, section.parameters, seed).fit(train, schema=data.schema)
        fit_s = time.perf_counter() - started
        synthetic = generator.sample(section.rows or train.height, seed=seed)
        write_table(synthetic, folder / "synthetic.parquet")
        outputs = ["synthetic.parquet"]
    say(f"generate: {len(synthetic):,} rows from {section.generator} (fit {fit_s:.1f} s) → {outputs[0]}")
    return synthetic, {"outputs": outputs, "rows": len(synthetic), "fit_seconds": round(fit_s, 3),
                       "generator": section.generator, "parameters": section.parameters}


def _load_synthetic(folder: Path, data):
    if data.modality == "images":
        from synthkit.recipes.data import Images

        with np.load(folder / "synthetic.npz") as archive:
            return Images(archive["images"], archive["labels"])
    from synthkit.data import read_table

    return read_table(folder / "synthetic.parquet")


def _validate(recipe: Recipe, data, train, holdout, synthetic, seeds, folder: Path, name: str) -> tuple[bool, list[str]]:
    from synthkit.validators.tabular import validate

    section = recipe.validate_section
    provenance = {
        "recipe": name,
        "generator": recipe.generate.generator,
        "parameters": recipe.generate.parameters,
        "source": data.source,
        "holdout": f"{recipe.data.holdout:.0%} of the rows ({holdout.height:,}) were held out (stratified, seeded); "
                   f"the generator was fitted on the other {train.height:,}",
    }
    target = recipe.data.target if section.utility else None
    report = validate(train, synthetic, holdout=holdout, schema=data.schema, policy=section.policy, target=target,
                      seed=seeds["validate"], provenance=provenance)
    report.to_html(folder / "report.html", title=f"synthkit validation report: {name}")
    report.to_json(folder / "report.json")
    return bool(report.passed), [check.id for check in report.failed_gates()]


# -------------------------------------------------------------------------------------------
# bootstrap training runs
# -------------------------------------------------------------------------------------------

def arm_specs(recipe: Recipe, data=None, split=None) -> list:
    """The arms of the training step; with the data, table strategies resolved against the training split."""
    from synthkit.recipes.bootstrap import ArmSpec
    from synthkit.recipes.check import resolve_strategy

    arms = [ArmSpec("real", "real")]
    for kind in recipe.train.arms[1:]:
        if kind == "augmented":
            section = recipe.augment
            for method in section.methods:
                strategy = method.strategy if method.strategy is not None else section.strategy
                if data is not None and data.modality == "table":
                    strategy = resolve_strategy(strategy, data.labels()[split.train])
                arms.append(ArmSpec(method.label, "augmented", method.method, dict(method.params), strategy,
                                    method.synthetic_fraction if method.synthetic_fraction is not None
                                    else section.synthetic_fraction, section.label_distribution))
        elif kind == "synthetic":
            arms.append(ArmSpec("synthetic", "synthetic", recipe.generate.generator, dict(recipe.generate.parameters)))
    return arms


def _replicate_file(folder: Path, index: int) -> Path:
    return folder / REPLICATES / f"{index:04d}.json"


def _train(recipe: Recipe, data, split, seeds: list[int], manifest: Manifest, run_record: dict, folder: Path, say,
           show_progress: bool) -> tuple[list[dict[str, Any]], int]:
    from synthkit._runtime import progress
    from synthkit.parallel import get_backend
    from synthkit.recipes.bootstrap import BootstrapJob, run_replicate

    section = recipe.train
    (folder / REPLICATES).mkdir(exist_ok=True)
    arms = arm_specs(recipe, data, split)
    finished: dict[int, dict[str, Any]] = {}
    for index, seed in enumerate(seeds):
        path = _replicate_file(folder, index)
        if path.is_file():
            try:
                record = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # unreadable (cannot be half-written, but may be damaged): run it again
            if record.get("seed") == seed and set(record.get("scores", {})) == {a.name for a in arms}:
                finished[index] = record
    pending = [(i, s) for i, s in enumerate(seeds) if i not in finished]
    if not pending and manifest.done("train"):
        run_record["skipped"].append("train")
        say(f"train: {len(seeds)} replicates done in an earlier run, skipped")
        return [finished[i] for i in range(len(seeds))], 0
    started = manifest.begin("train")
    if finished:
        say(f"train: {len(finished)} of {len(seeds)} replicates done in an earlier run; running the other {len(pending)}")
    job = BootstrapJob(
        modality=data.modality, train=data.take(split.train), holdout=data.take(split.holdout), target=data.target,
        schema=data.schema, classes=split.classes, positive=split.positive, model=section.model,
        model_params=dict(section.params), metrics=list(section.metric), arms=arms,
        holdout_bootstrap=section.holdout_bootstrap,
    )
    if not pending:  # every replicate was written before the last run stopped
        replicates = [finished[i] for i in range(len(seeds))]
        manifest.finish("train", started, replicates=len(seeds), replicates_this_run=0)
        return replicates, 0
    backend_section = recipe.backend
    workers = backend_section.workers
    if backend_section.name == "local":
        workers = min(workers or os.cpu_count() or 1, len(pending))
    elif backend_section.name == "serial":
        workers = None
    with get_backend(backend_section.name, address=backend_section.address, workers=workers) as backend:
        where = backend.describe()
        say(f"train: {len(pending)} replicate{'s' if len(pending) != 1 else ''} × {len(arms)} arms "
            f"({', '.join(a.name for a in arms)}), {section.model}, on {where}")
        with progress("bootstrap replicates", len(pending), enabled=show_progress) as advance:
            def keep(_: int, record: dict[str, Any]) -> None:
                write_json(_replicate_file(folder, record["index"]), record)
                finished[record["index"]] = record
                advance(1)

            backend.map(run_replicate, pending, shared=job, on_result=keep)
    replicates = [finished[i] for i in range(len(seeds))]
    manifest.finish("train", started, backend=where, replicates=len(seeds), replicates_this_run=len(pending),
                    replicate_seconds={"mean": round(float(np.mean([r["total_seconds"] for r in replicates])), 3),
                                       "max": round(float(np.max([r["total_seconds"] for r in replicates])), 3)})
    return replicates, len(pending)


def _write_results(recipe: Recipe, data, split, replicates, manifest: Manifest, name: str, folder: Path):
    from synthkit.recipes.plot import forest_plot

    results = _results(recipe, data, split, replicates, manifest, name)
    write_json(folder / RESULTS, results)
    forest_plot(results, folder / PLOT)
    return results, {"outputs": [RESULTS, PLOT]}


def _results(recipe: Recipe, data, split, replicates: list[dict[str, Any]], manifest: Manifest, name: str) -> dict[str, Any]:
    from synthkit.recipes.bootstrap import summarize

    section = recipe.train
    arms = arm_specs(recipe, data, split)
    notes: list[str] = []
    for record in replicates:
        for note in record.get("notes", []):
            if note not in notes:
                notes.append(note)
    validation = None
    if "validate" in manifest.steps:
        step = manifest.steps["validate"]
        validation = {"passed": step.get("passed"), "failed_gates": step.get("failed_gates", []), "report": "report.html"}
    return {
        "format": FORMAT_VERSION,
        "recipe": name,
        "seed": recipe.seed,
        "modality": data.modality,
        "model": section.model,
        "model_params": dict(section.params),
        "metrics": list(section.metric),
        "headline_metric": section.metric[0],
        "bootstrap": section.bootstrap,
        "ci": section.ci,
        "ci_method": "percentile",
        "holdout_bootstrap": section.holdout_bootstrap,
        "split": split.describe(data),
        "arms": summarize(replicates, arms, list(section.metric), section.ci),
        "validation": validation,
        "replicates": [{"index": r["index"], "seed": r["seed"], "scores": r["scores"], "train_rows": r["train_rows"]}
                       for r in replicates],
        "notes": notes[:50],
    }


__all__ = ["RunOutcome", "arm_specs", "run_recipe"]
