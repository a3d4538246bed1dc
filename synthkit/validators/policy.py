"""The validation policy: which checks are gates, and their thresholds (YAML, with defaults).

Every threshold has a default; a YAML file only needs the ones it changes. Setting a
threshold to ``null`` turns that gate into an informational check. Unknown keys are refused
with their name, so a typo never silently weakens a gate.

.. code-block:: yaml

    fidelity:
      detection_auc_max: 0.7
    privacy:
      dcr_share_max: 0.52
      attribute_inference_advantage_max: null   # measure, but do not gate

Each field's description is the one sentence the report shows beside its gate: what it
protects against.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthkit.errors import ConfigError


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ExpectationsPolicy(_Part):
    failed_max: int | None = Field(
        0, ge=0,
        description="Protects against synthetic data that breaks the real data's contract (missing columns, "
                    "wrong types, unseen categories, out-of-range values, missing ids) and with it the "
                    "pipelines that consume it.")


class FidelityPolicy(_Part):
    column_shapes_min: float | None = Field(
        0.85, ge=0, le=1,
        description="Protects against columns whose values are distributed unlike the real ones (wrong "
                    "frequencies, shifted or squashed numbers).")
    pair_trends_min: float | None = Field(
        0.85, ge=0, le=1,
        description="Protects against broken relationships between columns, which no single-column check sees.")
    detection_auc_max: float | None = Field(
        0.80, ge=0.5, le=1,
        description="Protects against synthetic rows that a classifier tells apart from real ones, i.e. data "
                    "that does not behave like the real thing in some combination of columns.")


class UtilityPolicy(_Part):
    gap_max: float | None = Field(
        0.05, ge=0,
        description="Protects against a model trained on synthetic data doing markedly worse on real data than "
                    "one trained on the real data (train-on-real minus train-on-synthetic score).")


class PrivacyPolicy(_Part):
    require_holdout: bool = Field(
        True, description="Without a holdout the privacy gates cannot be measured; by default that fails them.")
    exact_copy_excess_max: float | None = Field(
        0.0, ge=0, le=1,
        description="Protects against training rows copied into the synthetic data beyond the rate at which "
                    "fresh real rows repeat training rows (beyond sampling noise).")
    dcr_share_max: float | None = Field(
        0.55, ge=0, le=1,
        description="Protects against synthetic rows that sit closer to the training rows than to unseen real "
                    "rows, a sign of memorised records.")
    identifier_copy_excess_max: float | None = Field(
        0.0, ge=0, le=1,
        description="Protects against real ids, names, e-mails or phone numbers reappearing in the synthetic "
                    "data (beyond the rate at which fresh real rows share them with the training rows).")
    nndr_low_share_max: float | None = Field(
        None, ge=0, le=1,
        description="Protects against synthetic rows lying on one particular real record (nearest/second-nearest "
                    "distance ratio below the holdout's 5th percentile; 0.05 expected).")
    mia_auc_max: float | None = Field(
        0.60, ge=0.5, le=1,
        description="Protects against an attacker telling whether a person's record was in the training data "
                    "from its distance to the synthetic rows.")
    mia_tpr_max: float | None = Field(
        0.05, ge=0, le=1,
        description="Protects against the same attacker singling out a few training records with confidence "
                    "(true-positive rate at a low false-positive rate), which an average AUC can hide.")
    mia_low_fpr: float = Field(0.01, gt=0, lt=1, description="The false-positive rate at which mia_tpr_max applies.")
    attribute_inference_advantage_max: float | None = Field(
        0.10, ge=0, le=1,
        description="Protects against an attacker who knows some of a person's columns learning a sensitive "
                    "one from the synthetic data better for training records than for unseen ones.")
    max_attack_targets: int = Field(
        5000, ge=50, description="Training and holdout records attacked (each side); the synthetic side is never sampled.")


class ImagesPolicy(_Part):
    """Gates of image reports (``synthkit validate --modality image``)."""

    tstr_ratio_min: float | None = Field(
        0.80, ge=0, le=2,
        description="Protects against generated images that do not teach a classifier the real classes: "
                    "train-on-synthetic accuracy on real holdout images as a share of train-on-real accuracy.")
    detection_auc_max: float | None = Field(
        0.90, ge=0.5, le=1,
        description="Protects against generated images a pixel-level classifier tells apart from real ones "
                    "(blur, noise, wrong grey levels).")
    frechet_ratio_max: float | None = Field(
        None, ge=0,
        description="Protects against a generated feature distribution far from the real one: the Fréchet "
                    "distance at most this multiple of a real holdout's.")
    precision_min: float | None = Field(
        None, ge=0, le=1, description="Protects against unrealistic images (off the real images' manifold).")
    recall_min: float | None = Field(
        None, ge=0, le=1, description="Protects against too little variety (real images the generator never reaches).")
    coverage_min: float | None = Field(
        None, ge=0, le=1, description="Protects against dropped modes (real neighbourhoods with no generated image).")
    closer_to_train_share_max: float | None = Field(
        0.60, ge=0, le=1,
        description="Protects against memorised training images: generated images sitting closer to training "
                    "images than to unseen real ones.")
    near_duplicate_share_max: float | None = Field(
        0.05, ge=0, le=1,
        description="Protects against near-copies of training images among the generated ones.")


class Policy(_Part):
    """Gate thresholds; ``None`` makes a check informational."""

    expectations: ExpectationsPolicy = Field(default_factory=ExpectationsPolicy)
    fidelity: FidelityPolicy = Field(default_factory=FidelityPolicy)
    utility: UtilityPolicy = Field(default_factory=UtilityPolicy)
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)
    images: ImagesPolicy = Field(default_factory=ImagesPolicy)

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "policy") -> Policy:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a mapping of sections (fidelity, privacy, …), got {type(raw).__name__}")
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise ConfigError(f"{source}: {where}: {message}") from None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> Policy:
        import yaml

        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such policy file") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: is a folder, not a policy file") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def coerce(cls, policy: Policy | dict | str | os.PathLike | None) -> Policy:
        if policy is None:
            return cls()
        if isinstance(policy, Policy):
            return policy
        if isinstance(policy, dict):
            return cls.from_dict(policy)
        return cls.from_yaml(policy)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(), sort_keys=False)

    @staticmethod
    def meaning(section: str, key: str) -> str:
        part = Policy.model_fields[section].annotation
        return part.model_fields[key].description  # type: ignore[union-attr]
