"""Tabular diffusion: Gaussian diffusion on numbers, masked (absorbing-state) diffusion on categories.

One MLP denoiser sees a row at one noise level ``t`` in (0, 1]:

* numeric columns go through a quantile transform to a standard normal and are noised as
  ``x_t = sqrt(abar(t)) x_0 + sqrt(1 - abar(t)) eps`` (cosine schedule); the model predicts ``eps``;
* each categorical column is replaced by a ``[MASK]`` token with probability ``t`` and the
  model predicts the masked values (cross-entropy), as in masked diffusion language models.
  Categories are embedded, never one-hot, so wide columns stay cheap; levels beyond
  ``max_levels`` share one "rare" code and are drawn back from their observed frequencies.
  Numbers with at most ``discrete_levels`` distinct values are learned as categories.

Sampling runs ``sampling_steps`` reverse steps for the whole batch at once: ancestral DDPM
steps for the numbers, and at each step every masked category is unmasked with probability
``(t - s) / t`` from the predicted distribution.

With ``target=COLUMN`` the model is conditioned on that (categorical) column; the condition is
dropped 10% of the time in training, so ``sample(conditions={target: value})`` can use
classifier-free guidance (``guidance_scale``). Other conditions are painted in (known values
are held fixed while the rest is denoised) and then checked by the base class.

Training stops early when the validation loss stops improving, or after ``max_minutes``.
Weights are saved as safetensors; everything else is JSON.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from synthkit._runtime import progress, resolve_device
from synthkit.errors import ConfigError, GeneratorError
from synthkit.generators.base import BaseGenerator

WEIGHTS = "diffusion.safetensors"
STATE = "diffusion.json"
RARE = "__rare__"
_T_MIN = 1e-3
_N_QUANTILES = 1000
_CLIP = 5.5
_CHUNK = 20_000  # the quantile transform maps into about +-5.2 standard deviations


def _abar(t):
    """Cosine schedule (Nichol & Dhariwal), as a function of continuous ``t`` in [0, 1]."""
    import torch

    s = 0.008
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    f0 = math.cos(s / (1 + s) * math.pi / 2) ** 2
    return (f / f0).clamp(1e-5, 1.0)


class _QuantileNormal:
    """A vectorised quantile transform of every numeric column to a standard normal."""

    def __init__(self, quantiles: np.ndarray):
        self.quantiles = quantiles  # (n_quantiles, n_columns), sorted per column
        self.levels = np.linspace(0.0, 1.0, quantiles.shape[0])

    @classmethod
    def fit(cls, x: np.ndarray, rng: np.random.Generator) -> _QuantileNormal:
        rows = x if x.shape[0] <= 100_000 else x[rng.choice(x.shape[0], 100_000, replace=False)]
        n_q = int(min(_N_QUANTILES, max(rows.shape[0], 2)))
        return cls(np.quantile(rows, np.linspace(0.0, 1.0, n_q), axis=0))

    def forward(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        out = np.empty_like(x, dtype=np.float64)
        for j in range(x.shape[1]):
            q = self.quantiles[:, j]
            # tied quantiles (a spike such as capital-gain == 0) map to the middle of their span
            lo = np.interp(x[:, j], q, self.levels)
            hi = -np.interp(-x[:, j], -q[::-1], -self.levels[::-1])
            out[:, j] = (lo + hi) / 2
        eps = 1e-7
        return ndtri(np.clip(out, eps, 1 - eps))

    def inverse(self, z: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr

        u = ndtr(z)
        out = np.empty_like(u)
        for j in range(z.shape[1]):
            out[:, j] = np.interp(u[:, j], self.levels, self.quantiles[:, j])
        return out


def _denoiser_class():
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, width: int, dropout: float):
            super().__init__()
            self.norm = nn.LayerNorm(width)
            self.net = nn.Sequential(nn.Linear(width, width * 2), nn.SiLU(), nn.Dropout(dropout), nn.Linear(width * 2, width))

        def forward(self, h):
            return h + self.net(self.norm(h))

    class Denoiser(nn.Module):
        """Numbers (noised) + category embeddings (masked) + time (+ target) -> eps and logits."""

        def __init__(self, n_num: int, cardinalities: list[int], emb_dims: list[int], width: int, depth: int,
                     dropout: float, n_classes: int):
            super().__init__()
            self.n_num = n_num
            self.cardinalities = cardinalities
            # index K of each table is [MASK]
            self.embeddings = nn.ModuleList(nn.Embedding(k + 1, d) for k, d in zip(cardinalities, emb_dims))
            self.inp = nn.Linear(n_num + sum(emb_dims), width)
            self.time = nn.Sequential(nn.Linear(64, width), nn.SiLU(), nn.Linear(width, width))
            # index n_classes is the "no condition" class of classifier-free guidance
            self.label = nn.Embedding(n_classes + 1, width) if n_classes else None
            self.blocks = nn.ModuleList(Block(width, dropout) for _ in range(depth))
            self.out_norm = nn.LayerNorm(width)
            self.out = nn.Linear(width, n_num + sum(cardinalities))
            freqs = torch.exp(-math.log(10_000.0) * torch.arange(32) / 32)
            self.register_buffer("freqs", freqs, persistent=False)

        def forward(self, x_num, x_cat, t, label=None):
            parts = [x_num] if self.n_num else []
            parts += [emb(x_cat[:, j]) for j, emb in enumerate(self.embeddings)]
            h = self.inp(torch.cat(parts, dim=1))
            angles = (t[:, None] * 1000.0) * self.freqs[None, :]
            h = h + self.time(torch.cat([angles.sin(), angles.cos()], dim=1))
            if self.label is not None:
                h = h + self.label(label)
            for block in self.blocks:
                h = block(h)
            out = self.out(torch.nn.functional.silu(self.out_norm(h)))
            return out[:, : self.n_num], out[:, self.n_num:]

    return Denoiser


class TabularDiffusionGenerator(BaseGenerator):
    """Mixed-type tabular diffusion (Gaussian numbers + masked categories) with one MLP denoiser."""

    name = "masked_diffusion"
    _native_conditions: ClassVar[bool] = True

    def __init__(
        self,
        *,
        epochs: int = 200,
        batch_size: int = 1024,
        width: int = 256,
        depth: int = 3,
        dropout: float = 0.0,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-5,
        ema_decay: float = 0.995,
        sampling_steps: int = 50,
        patience: int = 10,
        validation_fraction: float = 0.1,
        max_minutes: float | None = 10.0,
        max_levels: int = 1000,
        discrete_levels: int = 20,
        precision: str = "auto",
        num_threads: int | None = 1,
        target: str | None = None,
        guidance_scale: float = 1.0,
        device: str = "auto",
        random_state: int | None = None,
        verbose: bool = True,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.width = width
        self.depth = depth
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.ema_decay = ema_decay
        self.sampling_steps = sampling_steps
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.max_minutes = max_minutes
        self.max_levels = max_levels
        self.discrete_levels = discrete_levels
        self.precision = precision
        self.num_threads = num_threads
        self.target = target
        self.guidance_scale = guidance_scale
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {
            "width": trial.suggest_categorical("width", [256, 384, 512]),
            "depth": trial.suggest_int("depth", 2, 4),
            "learning_rate": trial.suggest_float("learning_rate", 5e-4, 4e-3, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [256, 512, 1024]),
            "dropout": trial.suggest_categorical("dropout", [0.0, 0.1]),
        }

    def _check_params(self) -> None:
        super()._check_params()
        for key in ("width", "depth", "sampling_steps", "patience", "max_levels"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ConfigError(f"{self.name}: {key} must be a positive integer, not {value!r}")
        if isinstance(self.discrete_levels, bool) or not isinstance(self.discrete_levels, (int, np.integer)) or self.discrete_levels < 0:
            raise ConfigError(f"{self.name}: discrete_levels must be an integer >= 0, not {self.discrete_levels!r}")
        if self.max_levels < 2:
            raise ConfigError(f"{self.name}: max_levels must be at least 2, not {self.max_levels!r}")
        checks = (
            ("learning_rate", self.learning_rate, lambda v: v > 0, "a positive number"),
            ("weight_decay", self.weight_decay, lambda v: v >= 0, "a number >= 0"),
            ("dropout", self.dropout, lambda v: 0 <= v < 1, "a number in [0, 1)"),
            ("ema_decay", self.ema_decay, lambda v: 0 <= v < 1, "a number in [0, 1)"),
            ("validation_fraction", self.validation_fraction, lambda v: 0 <= v < 1, "a number in [0, 1)"),
            ("guidance_scale", self.guidance_scale, lambda v: v >= 0, "a number >= 0"),
        )
        for key, value, ok, what in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not ok(value):
                raise ConfigError(f"{self.name}: {key} must be {what}, not {value!r}")
        if self.max_minutes is not None and (
            isinstance(self.max_minutes, bool) or not isinstance(self.max_minutes, (int, float)) or self.max_minutes <= 0
        ):
            raise ConfigError(f"{self.name}: max_minutes must be a positive number of minutes, not {self.max_minutes!r}")
        if self.target is not None and not isinstance(self.target, str):
            raise ConfigError(f"{self.name}: target must be a column name, not {self.target!r}")
        if self.num_threads is not None and (
            isinstance(self.num_threads, bool) or not isinstance(self.num_threads, (int, np.integer)) or self.num_threads <= 0
        ):
            raise ConfigError(f"{self.name}: num_threads must be a positive integer or None, not {self.num_threads!r}")
        if self.precision not in ("auto", "float32", "bfloat16"):
            raise ConfigError(f"{self.name}: precision must be auto, float32 or bfloat16, not {self.precision!r}")
        resolve_device(self.device)

    @contextlib.contextmanager
    def _threads(self):
        """CPU threads for PyTorch while fitting or sampling, restored afterwards.

        One by default: the MLP's matrices are small, so more OpenMP threads gain little on an
        idle machine and, on a busy one, wait on each other (30x slower measured on 2 shared cores).
        """
        import torch

        before = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(int(self.num_threads))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _autocast(self, device: str):
        """bfloat16 matmuls where the hardware has them (AMX / AVX512-BF16 CPUs, recent GPUs): ~2x faster."""
        import torch

        kind = "cuda" if device.startswith("cuda") else "cpu"
        if self.precision == "float32":
            return contextlib.nullcontext()
        if self.precision == "auto":
            if kind == "cpu":
                cpu = torch.cpu
                fast = getattr(cpu, "_is_amx_tile_supported", lambda: False)() or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
            else:
                fast = torch.cuda.is_bf16_supported()
            if not fast:
                return contextlib.nullcontext()
        return torch.autocast(kind, dtype=torch.bfloat16)

    # -- encoding -------------------------------------------------------------------
    def _encode_categories(self, frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
        codes = np.empty((frame.height, len(columns)), dtype=np.int64)
        for j, name in enumerate(columns):
            spec = self.columns_[name]
            mapping = {level: i for i, level in enumerate(spec["levels"])}
            rare = mapping.get(RARE, -1)
            series = frame.get_column(name).cast(pl.String)
            codes[:, j] = series.replace_strict(mapping, default=rare, return_dtype=pl.Int64).to_numpy()
        return codes

    def _fit_columns(self, frame: pl.DataFrame, kinds: dict[str, str]) -> None:
        self.columns_: dict[str, dict[str, Any]] = {}
        for name, kind in kinds.items():
            if kind == "numeric" and not (0 < frame.get_column(name).n_unique() <= self.discrete_levels):
                self.columns_[name] = {"kind": "numeric"}
                continue
            counts = frame.get_column(name).cast(pl.String).value_counts(sort=True, name="n")
            levels = counts.get_column(name).to_list()
            freq = counts.get_column("n").to_list()
            # a number with few distinct values (a count, a rating, a coded status) is learned
            # as a category: its exact values and their joint patterns come back, not a blur
            spec: dict[str, Any] = {"kind": "discrete" if kind == "numeric" else "categorical", "levels": levels}
            if len(levels) > self.max_levels:
                # keep the commonest levels; the others share one code and come back in proportion
                keep = self.max_levels - 1
                spec["levels"] = levels[:keep] + [RARE]
                spec["rare_levels"] = levels[keep:]
                spec["rare_counts"] = freq[keep:]
            self.columns_[name] = spec

    # -- training -------------------------------------------------------------------
    def _fit(self, frame: pl.DataFrame, kinds: dict[str, str]) -> None:
        with self._threads():
            self._fit_model(frame, kinds)

    def _fit_model(self, frame: pl.DataFrame, kinds: dict[str, str]) -> None:
        import torch

        device = resolve_device(self.device)
        if self.target is not None:
            if self.target not in frame.columns:
                known = ", ".join(frame.columns)
                raise ConfigError(f"{self.name}: target {self.target!r} is not a learned column (columns: {known})")
            if kinds[self.target] != "categorical":
                raise ConfigError(f"{self.name}: target {self.target!r} must be categorical (or boolean), it is numeric")
        rng = np.random.default_rng(self.random_state)
        self._fit_columns(frame, kinds)
        self.num_cols_ = [c for c in kinds if self.columns_[c]["kind"] == "numeric"]
        self.cat_cols_ = [c for c in kinds if self.columns_[c]["kind"] != "numeric" and c != self.target]
        x_num = frame.select(self.num_cols_).to_numpy().astype(np.float64) if self.num_cols_ else np.zeros((frame.height, 0))
        if self.num_cols_:
            self.quantile_ = _QuantileNormal.fit(x_num, rng)
            x_num = self.quantile_.forward(x_num)
        x_cat = self._encode_categories(frame, self.cat_cols_)
        labels = self._encode_categories(frame, [self.target])[:, 0] if self.target else np.zeros(frame.height, dtype=np.int64)
        self.cardinalities_ = [len(self.columns_[c]["levels"]) for c in self.cat_cols_]
        self.n_classes_ = len(self.columns_[self.target]["levels"]) if self.target else 0
        if self.target:
            self.class_prior_ = np.bincount(labels, minlength=self.n_classes_) / labels.size
        self.emb_dims_ = [int(min(32, max(4, round(1.6 * k**0.56)))) for k in self.cardinalities_]

        seed = int(rng.integers(2**31))
        with torch.random.fork_rng(devices=[]):  # seed the initial weights without touching the caller's RNG
            torch.manual_seed(seed)
            model = self._new_model().to(device)
        ema = copy.deepcopy(model).eval()
        for p in ema.parameters():
            p.requires_grad_(False)

        n = frame.height
        order = rng.permutation(n)
        n_val = round(n * self.validation_fraction) if n >= 200 else 0
        n_val = min(n_val, 5000)
        val_idx, train_idx = order[:n_val], order[n_val:]
        as_t = lambda a, dt: torch.as_tensor(a, dtype=dt, device=device)
        tn, tc, ty = as_t(x_num, torch.float32), as_t(x_cat, torch.long), as_t(labels, torch.long)
        train = (tn[train_idx], tc[train_idx], ty[train_idx])
        gen = torch.Generator(device=device).manual_seed(seed)
        val_noise = None
        if n_val:
            val = (tn[val_idx], tc[val_idx], ty[val_idx])
            vgen = torch.Generator(device=device).manual_seed(seed + 1)
            # the same noise every epoch, so validation losses compare model with model
            val_noise = [self._draw_noise(val, vgen, device) for _ in range(2)]

        batch = int(min(self.batch_size, max(32, len(train_idx) // 4)))
        steps_per_epoch = max(1, len(train_idx) // batch)
        total_steps = steps_per_epoch * self.epochs
        opt = torch.optim.AdamW(model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        warmup = min(100, total_steps // 10 + 1)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: min(1.0, (step + 1) / warmup) * max(0.05, 1.0 - step / max(total_steps, 1))
        )
        deadline = time.perf_counter() + 60.0 * self.max_minutes if self.max_minutes else math.inf
        best, best_state, stale, epoch = math.inf, None, 0, 0
        history: list[dict[str, float]] = []
        self.stop_reason_ = "epochs"
        with progress(f"Training {self.name}", self.epochs, enabled=self.verbose) as advance:
            for epoch in range(1, self.epochs + 1):
                model.train()
                perm = torch.randperm(len(train_idx), generator=gen, device=device)
                running = 0.0
                for step in range(steps_per_epoch):
                    idx = perm[step * batch:(step + 1) * batch]
                    rows = tuple(part[idx] for part in train)
                    loss = self._loss(model, rows, self._draw_noise(rows, gen, device, drop_labels=True))
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
                    sched.step()
                    with torch.no_grad():
                        decay = min(self.ema_decay, (1 + sched.last_epoch) / (10 + sched.last_epoch))
                        for pe, pm in zip(ema.parameters(), model.parameters()):
                            pe.lerp_(pm, 1 - decay)
                    running += float(loss.detach())
                record = {"epoch": epoch, "train_loss": running / steps_per_epoch}
                advance(1)
                if val_noise is not None:
                    with torch.no_grad():
                        v = sum(float(self._loss(ema, val, noise)) for noise in val_noise) / len(val_noise)
                    record["val_loss"] = v
                    if v < best - 1e-4:
                        best, stale = v, 0
                        best_state = {k: t.detach().clone() for k, t in ema.state_dict().items()}
                    else:
                        stale += 1
                history.append(record)
                if stale >= self.patience:
                    self.stop_reason_ = "early stop"
                    break
                if time.perf_counter() > deadline:
                    self.stop_reason_ = "max_minutes"
                    break
        if best_state is not None:
            ema.load_state_dict(best_state)
        self.model_ = ema.to("cpu")
        self.device_ = device
        self.epochs_run_ = epoch
        self.history_ = history
        self.best_val_loss_ = best if best_state is not None else None

    def _new_model(self):
        klass = _denoiser_class()
        return klass(len(self.num_cols_), self.cardinalities_, self.emb_dims_, int(self.width), int(self.depth),
                     float(self.dropout), self.n_classes_)

    def _draw_noise(self, rows, gen, device, drop_labels: bool = False):
        import torch

        x_num, x_cat, y = rows
        n = y.shape[0]
        # stratified times: lower variance than independent uniforms
        u = (torch.arange(n, device=device) + torch.rand(n, generator=gen, device=device)) / n
        t = (_T_MIN + (1 - _T_MIN) * u)[torch.randperm(n, generator=gen, device=device)]
        eps = torch.randn(x_num.shape, generator=gen, device=device)
        mask = torch.rand(x_cat.shape, generator=gen, device=device) < t[:, None]
        drop = torch.rand(n, generator=gen, device=device) < 0.1 if (drop_labels and self.n_classes_) else None
        return t, eps, mask, drop

    def _loss(self, model, rows, noise):
        import torch
        import torch.nn.functional as F

        x_num, x_cat, y = rows
        t, eps, mask, drop = noise
        abar = _abar(t)[:, None]
        noisy = abar.sqrt() * x_num + (1 - abar).sqrt() * eps
        masked_cat = x_cat.clone()
        if x_cat.shape[1]:
            mask_index = torch.as_tensor(self.cardinalities_, device=x_cat.device)[None, :].expand_as(x_cat)
            masked_cat = torch.where(mask, mask_index, x_cat)
        label = None
        if self.n_classes_:
            label = torch.where(drop, torch.full_like(y, self.n_classes_), y) if drop is not None else y
        with self._autocast(str(x_cat.device)):
            eps_hat, logits = model(noisy, masked_cat, t, label)
        eps_hat, logits = eps_hat.float(), logits.float()
        total = torch.zeros((), device=x_cat.device)
        if self.num_cols_:
            total = total + F.mse_loss(eps_hat, eps, reduction="sum") / x_num.shape[0]
        start = 0
        for j, k in enumerate(self.cardinalities_):
            ce = F.cross_entropy(logits[:, start:start + k], x_cat[:, j], reduction="none")
            total = total + (ce * mask[:, j]).sum() / x_cat.shape[0]
            start += k
        return total / max(1, len(self.num_cols_) + len(self.cardinalities_))

    # -- sampling -------------------------------------------------------------------
    def _sample(self, n: int, *, seed: int | None, conditions: dict[str, Any] | None = None) -> pl.DataFrame:
        with self._threads():
            return self._sample_rows(n, seed, conditions)

    def _sample_rows(self, n: int, seed: int | None, conditions: dict[str, Any] | None) -> pl.DataFrame:
        import torch

        device = self._sampling_device()
        model = self.model_.to(device).eval()
        gen = torch.Generator(device=device)
        gen.manual_seed(seed if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1))
        # chunks bound the logits' memory (rows x all levels) however wide the categories are
        parts = [self._sample_chunk(model, device, gen, min(_CHUNK, n - start), conditions or {})
                 for start in range(0, n, _CHUNK)]
        return pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]

    def _sample_chunk(self, model, device: str, gen, n: int, conditions: dict[str, Any]) -> pl.DataFrame:
        import torch

        n_num, n_cat = len(self.num_cols_), len(self.cat_cols_)
        cards = torch.as_tensor(self.cardinalities_, dtype=torch.long, device=device)

        # what the caller fixed: painted in at every step
        known_num = {j: self._number_to_normal(j, conditions[c]) for j, c in enumerate(self.num_cols_) if c in conditions}
        known_cat = {j: self._level_code(c, conditions[c]) for j, c in enumerate(self.cat_cols_) if c in conditions}
        known_cat = {j: code for j, code in known_cat.items() if code is not None}
        guided = False
        label = None
        if self.target:
            code = self._level_code(self.target, conditions[self.target]) if self.target in conditions else None
            if code is not None:
                label = torch.full((n,), code, dtype=torch.long, device=device)
                guided = self.guidance_scale > 0
            else:
                prior = torch.as_tensor(self.class_prior_, dtype=torch.float32, device=device)
                label = torch.multinomial(prior, n, replacement=True, generator=gen)

        x = torch.randn((n, n_num), generator=gen, device=device)
        z = cards[None, :].expand(n, n_cat).clone()  # all masked
        for j, code in known_cat.items():
            z[:, j] = code
        times = torch.linspace(1.0, 0.0, self.sampling_steps + 1, device=device)
        null = torch.full((n,), self.n_classes_, dtype=torch.long, device=device) if guided else None
        with torch.no_grad():
            for i in range(self.sampling_steps):
                t, s = times[i], times[i + 1]
                tt = torch.full((n,), float(t.clamp(min=_T_MIN)), device=device)
                for j, value in known_num.items():
                    a = _abar(tt[:1])
                    x[:, j] = a.sqrt() * value + (1 - a).sqrt() * torch.randn(n, generator=gen, device=device)
                with self._autocast(device):
                    eps, logits = model(x, z, tt, label)
                    if guided:
                        eps_u, logits_u = model(x, z, tt, null)
                eps, logits = eps.float(), logits.float()
                if guided:
                    eps_u, logits_u = eps_u.float(), logits_u.float()
                    w = float(self.guidance_scale)
                    eps = (1 + w) * eps - w * eps_u
                    logits = self._guided_logits(logits, logits_u, w)
                x = self._numeric_step(x, eps, tt, s, gen)
                z = self._category_step(z, logits, float(t), float(s), gen)
        for j, value in known_num.items():
            x[:, j] = value
        decode_seed = int(torch.randint(2**31, (1,), generator=gen, device=device).item())
        return self._decode(x.cpu().numpy(), z.cpu().numpy(), None if label is None else label.cpu().numpy(), decode_seed)

    def _sampling_device(self) -> str:
        return resolve_device(self.device)

    def _guided_logits(self, cond, uncond, w: float):
        import torch

        out = []
        start = 0
        for k in self.cardinalities_:
            lc = torch.log_softmax(cond[:, start:start + k], dim=1)
            lu = torch.log_softmax(uncond[:, start:start + k], dim=1)
            out.append((1 + w) * lc - w * lu)
            start += k
        return torch.cat(out, dim=1) if out else cond

    def _numeric_step(self, x, eps, tt, s, gen):
        import torch

        if not self.num_cols_:
            return x
        a_t = _abar(tt)[:, None]
        x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-_CLIP, _CLIP)
        if float(s) <= 0:
            return x0
        a_s = _abar(torch.full_like(tt, float(s)))[:, None]
        alpha = a_t / a_s
        beta = 1 - alpha
        mean = (a_s.sqrt() * beta / (1 - a_t)) * x0 + (alpha.sqrt() * (1 - a_s) / (1 - a_t)) * x
        var = beta * (1 - a_s) / (1 - a_t)
        return mean + var.clamp(min=0).sqrt() * torch.randn(x.shape, generator=gen, device=x.device)

    def _category_step(self, z, logits, t: float, s: float, gen):
        import torch

        if not self.cat_cols_:
            return z
        unmask_p = 1.0 if s <= 0 else (t - s) / t
        start = 0
        for j, k in enumerate(self.cardinalities_):
            # decide which cells to reveal first, then draw only those: each cell is drawn once
            # over the whole reverse process instead of once per step
            reveal = (z[:, j] == k) & (torch.rand(z.shape[0], generator=gen, device=z.device) < unmask_p)
            rows = reveal.nonzero(as_tuple=True)[0]
            if rows.numel():
                probs = torch.softmax(logits[rows, start:start + k].float(), dim=1)
                z[rows, j] = torch.multinomial(probs, 1, generator=gen)[:, 0]
            start += k
        return z

    def _number_to_normal(self, j: int, value: float) -> float:
        row = np.zeros((1, len(self.num_cols_)))
        row[0, j] = float(value)
        return float(self.quantile_.forward(row)[0, j])

    def _level_code(self, column: str, value: Any) -> int | None:
        levels = self.columns_[column]["levels"]
        text = str(value)
        if text in levels:
            return levels.index(text)
        return levels.index(RARE) if RARE in levels and text in self.columns_[column].get("rare_levels", []) else None

    def _decode(self, x: np.ndarray, z: np.ndarray, labels: np.ndarray | None, seed: int) -> pl.DataFrame:
        rng = np.random.default_rng(seed)
        out: dict[str, pl.Series] = {}
        numbers = self.quantile_.inverse(x.astype(np.float64)) if self.num_cols_ else x
        for j, name in enumerate(self.num_cols_):
            out[name] = pl.Series(name, numbers[:, j], dtype=pl.Float64)
        cat_codes = [(name, z[:, j]) for j, name in enumerate(self.cat_cols_)]
        if labels is not None:
            cat_codes.append((self.target, labels))
        for name, codes in cat_codes:
            spec = self.columns_[name]
            values = np.asarray(spec["levels"], dtype=object)[codes]
            if "rare_levels" in spec:
                is_rare = values == RARE
                if is_rare.any():
                    p = np.asarray(spec["rare_counts"], dtype=float)
                    values[is_rare] = np.asarray(spec["rare_levels"], dtype=object)[
                        rng.choice(p.size, size=int(is_rare.sum()), p=p / p.sum())
                    ]
            out[name] = pl.Series(name, values.tolist(), dtype=pl.String)
            if spec["kind"] == "discrete":
                out[name] = out[name].cast(pl.Float64)
        return pl.DataFrame([out[c] for c in self.model_kinds_])

    # -- persistence ----------------------------------------------------------------
    def _save_weights(self, folder: Path) -> list[str]:
        import torch
        from safetensors.torch import save_file

        tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in self.model_.state_dict().items()}
        if self.num_cols_:
            tensors["quantiles"] = torch.as_tensor(self.quantile_.quantiles, dtype=torch.float64)
        if self.target:
            tensors["class_prior"] = torch.as_tensor(self.class_prior_, dtype=torch.float64)
        save_file(tensors, str(folder / WEIGHTS))
        state = {
            "columns": self.columns_,
            "num_cols": self.num_cols_,
            "cat_cols": self.cat_cols_,
            "cardinalities": self.cardinalities_,
            "emb_dims": self.emb_dims_,
            "n_classes": self.n_classes_,
            "epochs_run": self.epochs_run_,
            "stop_reason": self.stop_reason_,
            "best_val_loss": self.best_val_loss_,
            "history": self.history_,
        }
        (folder / STATE).write_text(json.dumps(state))
        return [WEIGHTS, STATE]

    def _load_weights(self, folder: Path, meta: dict[str, Any]) -> None:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        for file in (STATE, WEIGHTS):
            if not (folder / file).is_file():
                raise GeneratorError(f"{folder}: {file} is missing")
        try:
            state = json.loads((folder / STATE).read_text())
            tensors = load_file(str(folder / WEIGHTS))
        except (json.JSONDecodeError, SafetensorError, OSError) as error:
            raise GeneratorError(f"{folder}: the diffusion model files cannot be read: {error}") from None
        self.columns_ = state["columns"]
        self.num_cols_ = state["num_cols"]
        self.cat_cols_ = state["cat_cols"]
        self.cardinalities_ = state["cardinalities"]
        self.emb_dims_ = state["emb_dims"]
        self.n_classes_ = state["n_classes"]
        self.epochs_run_ = state["epochs_run"]
        self.stop_reason_ = state["stop_reason"]
        self.best_val_loss_ = state["best_val_loss"]
        self.history_ = state["history"]
        if self.num_cols_:
            self.quantile_ = _QuantileNormal(tensors["quantiles"].numpy())
        if self.target:
            self.class_prior_ = tensors["class_prior"].numpy()
        model = self._new_model()
        try:
            model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        except RuntimeError as error:
            raise GeneratorError(f"{folder / WEIGHTS}: weights do not fit the model description: {error}") from None
        self.model_ = model.eval()
        self.device_ = "cpu"
