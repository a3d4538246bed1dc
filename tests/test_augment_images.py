"""Images: a Dataset mixing real and generated images, and per-class top-up, on scikit-learn's
real handwritten digits. The generator is AffineJitter (real digits, randomly rotated, shifted
and scaled), so the generated images are new, vary, and carry their class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthkit.augment.images import AffineJitter, MixedImageDataset, top_up_classes
from synthkit.errors import ConfigError, DataError, GeneratorError


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)
    return train_test_split(images, data.target, test_size=0.4, stratify=data.target, random_state=0)


@pytest.fixture(scope="module")
def rare_threes(digits):
    """The training digits with only 10 of the ~110 threes left."""
    X_train, _, y_train, _ = digits
    drop = np.flatnonzero(y_train == 3)[10:]
    keep = np.setdiff1d(np.arange(len(y_train)), drop)
    return X_train[keep], y_train[keep]


def _flat(images) -> np.ndarray:
    array = images.numpy() if isinstance(images, torch.Tensor) else images
    return array.reshape(len(array), -1)


def test_generated_digits_are_new_varied_and_keep_their_class(digits):
    from sklearn.linear_model import LogisticRegression

    X_train, _, y_train, _ = digits
    generator = AffineJitter(X_train, y_train, max_rotation=10, max_shift=0.06, max_scale=0.08)
    wanted = np.repeat(np.arange(10), 30)
    images, labels = generator.generate(wanted, seed=0)
    assert images.shape == (300, 1, 8, 8) and np.array_equal(labels, wanted)
    flat = _flat(images)
    distance_to_real = np.abs(flat[:, None, :] - _flat(X_train)[None]).sum(-1).min(1)
    assert distance_to_real.min() > 0.05, "no generated image is a copy of a real one"
    assert len(np.unique(flat.round(3), axis=0)) == 300
    reader = LogisticRegression(max_iter=3000).fit(_flat(X_train), y_train)
    assert (reader.predict(flat) == labels).mean() > 0.8, "a classifier trained on real digits reads them right"
    again, _ = generator.generate(wanted, seed=0)
    other, _ = generator.generate(wanted, seed=1)
    assert torch.equal(again, images) and not torch.equal(other, images)


def test_top_up_balances_rare_classes_and_helps_their_recall(rare_threes, digits):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import recall_score

    images, labels = rare_threes
    _, X_test, _, y_test = digits
    out_images, out_labels, synthetic = top_up_classes(images, labels, AffineJitter(images, labels), seed=0)
    counts = np.bincount(out_labels)
    assert set(counts) == {np.bincount(labels).max()}
    assert isinstance(out_images, np.ndarray) and out_images.shape[1:] == images.shape[1:]
    assert np.array_equal(out_images[: len(images)], images) and np.array_equal(out_labels[: len(labels)], labels)
    assert not synthetic[: len(labels)].any() and synthetic[len(labels):].all()

    def recall_of_threes(X, y):
        model = LogisticRegression(max_iter=3000).fit(_flat(X), y)
        return recall_score(y_test, model.predict(_flat(X_test)), labels=[3], average=None)[0]

    assert recall_of_threes(out_images, out_labels) > recall_of_threes(images, labels) + 0.1

    only, only_labels, _ = top_up_classes(torch.from_numpy(images), torch.from_numpy(labels),
                                          AffineJitter(images, labels), target={3: 50}, seed=0)
    assert isinstance(only, torch.Tensor) and np.bincount(only_labels.numpy())[3] == 50
    assert len(only) == len(images) + 40


def test_mixed_dataset_ratio_labels_and_loader(rare_threes):
    images, labels = rare_threes
    uint8 = (images * 255).round().astype(np.uint8)  # the usual on-disk form: scaled to [0, 1]
    dataset = MixedImageDataset(uint8, labels, AffineJitter(uint8, labels), synthetic_fraction=0.25,
                                label_distribution="inverse", seed=0)
    assert dataset.n_real == len(labels) and len(dataset) == dataset.n_real + dataset.n_synthetic
    assert dataset.n_synthetic / len(dataset) == pytest.approx(0.25, abs=0.002)
    assert dataset.is_synthetic.sum().item() == dataset.n_synthetic
    image, label = dataset[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1
    assert torch.allclose(image, torch.from_numpy(images[0])[None], atol=1 / 255) and label == labels[0]
    generated = np.bincount(dataset.synthetic_labels, minlength=10)
    assert generated[3] == generated.max() and generated[3] > 5 * np.median(generated), "rarest class gets most"
    loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = sum(len(batch_labels) for _, batch_labels in loader)
    assert seen == len(dataset)
    before = dataset.synthetic_images.clone()
    assert torch.equal(MixedImageDataset(uint8, labels, AffineJitter(uint8, labels), synthetic_fraction=0.25,
                                         label_distribution="inverse", seed=0).synthetic_images, before)
    dataset.refresh(seed=1)
    assert not torch.equal(dataset.synthetic_images, before) and len(dataset) == len(labels) + len(before)


def test_any_callable_works_and_bad_generators_are_caught(rare_threes):
    images, labels = rare_threes
    jitter = AffineJitter(images, labels)

    def plain_function(wanted, *, seed):  # any callable with the (labels, seed) -> (images, labels) contract
        return jitter.generate(wanted, seed=seed)

    dataset = MixedImageDataset(images, labels, plain_function, synthetic_fraction=0.1, seed=0)
    assert dataset.n_synthetic == round(len(labels) / 9)

    def wrong_labels(wanted, *, seed):
        got, _ = jitter.generate(wanted, seed=seed)
        return got, (np.asarray(wanted) + 1) % 10

    def wrong_shape(wanted, *, seed):
        return torch.zeros(len(wanted), 1, 16, 16), wanted

    with pytest.raises(GeneratorError, match="labels differ"):
        top_up_classes(images, labels, wrong_labels)
    with pytest.raises(GeneratorError, match="shaped"):
        MixedImageDataset(images, labels, wrong_shape)
    with pytest.raises(ConfigError, match="generator"):
        MixedImageDataset(images, labels, "diffusion")
    with pytest.raises(ConfigError, match="synthetic_fraction"):
        MixedImageDataset(images, labels, jitter, synthetic_fraction=1.0)
    with pytest.raises(ConfigError, match="already above"):
        top_up_classes(images, labels, jitter, target={0: 5})
    with pytest.raises(DataError, match="labels"):
        top_up_classes(images, labels[:-1], jitter)
    with pytest.raises(GeneratorError, match="no real images of class"):
        jitter.generate([42])
