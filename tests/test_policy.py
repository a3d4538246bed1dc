"""The YAML policy: defaults, overrides, errors that name the field."""

from __future__ import annotations

import pytest

from synthkit.errors import ConfigError
from synthkit.validators.policy import Policy


def test_defaults_and_a_sentence_per_gate():
    policy = Policy()
    assert policy.privacy.dcr_share_max == 0.55 and policy.privacy.mia_auc_max == 0.60
    assert policy.privacy.exact_copy_excess_max == 0.0 and policy.expectations.failed_max == 0
    for section in ("expectations", "fidelity", "utility", "privacy"):
        part = Policy.model_fields[section].annotation
        for key, field in part.model_fields.items():
            assert field.description and field.description.endswith("."), (section, key)
            if key.endswith(("_max", "_min")):
                assert field.description.startswith("Protects against"), (section, key)


def test_yaml_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("privacy:\n  dcr_share_max: 0.52\n  nndr_low_share_max: 0.1\nfidelity:\n  detection_auc_max: null\n")
    policy = Policy.from_yaml(path)
    assert policy.privacy.dcr_share_max == 0.52 and policy.privacy.nndr_low_share_max == 0.1
    assert policy.fidelity.detection_auc_max is None
    assert policy.privacy.mia_auc_max == 0.60
    assert Policy.from_yaml(_write(tmp_path, "empty.yaml", "")) == Policy()
    assert Policy.from_dict(Policy().model_dump()) == Policy()


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, needle", [
    ("privacy:\n  dcr_share_maxx: 0.5\n", "privacy.dcr_share_maxx: unknown key"),
    ("privacy:\n  dcr_share_max: lots\n", "privacy.dcr_share_max: Input should be a valid number"),
    ("fidelity:\n  detection_auc_max: 0.3\n", "fidelity.detection_auc_max: Input should be greater than or equal to 0.5"),
    ("gates: {}\n", "gates: unknown key"),
    ("- 1\n- 2\n", "expected a mapping"),
    ("privacy: [\n", "not valid YAML"),
])
def test_errors_name_the_field(tmp_path, text, needle):
    path = _write(tmp_path, "p.yaml", text)
    with pytest.raises(ConfigError) as error:
        Policy.from_yaml(path)
    assert needle in str(error.value) and str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="no such policy file"):
        Policy.from_yaml("/nonexistent/policy.yaml")
