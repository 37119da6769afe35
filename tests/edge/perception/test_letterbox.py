"""Fitting frames into a model's input and mapping boxes back."""

from __future__ import annotations

import numpy as np
import pytest

from edge.perception.description import ImageInput
from edge.perception.letterbox import to_input


def test_a_frame_of_the_input_size_passes_through_scaled_only() -> None:
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    tensor, placement = to_input(image, ImageInput(name="x", width=320, height=240))
    assert tensor.shape == (1, 3, 240, 320)
    assert tensor.flags.c_contiguous
    np.testing.assert_allclose(tensor[0].transpose(1, 2, 0), image / 255.0, rtol=1e-6)
    assert (placement.scale, placement.pad_x, placement.pad_y) == (1.0, 0.0, 0.0)


def test_a_wide_frame_is_scaled_centred_and_padded_and_boxes_map_back() -> None:
    image = np.full((480, 640, 3), 200, np.uint8)
    spec = ImageInput(name="x", width=320, height=320, pad_value=114)
    tensor, placement = to_input(image, spec)
    assert (placement.scale, placement.pad_x, placement.pad_y) == (0.5, 0.0, 40.0)
    pixels = tensor[0, 0] * 255
    np.testing.assert_allclose(pixels[:40], 114, atol=1e-3)
    np.testing.assert_allclose(pixels[280:], 114, atol=1e-3)
    np.testing.assert_allclose(pixels[40:280], 200, atol=1e-3)
    np.testing.assert_allclose(
        placement.to_frame(np.array([[10, 50, 30, 90]])), [[20, 20, 60, 100]]
    )


def test_bgr_models_get_swapped_channels_and_mean_std_apply() -> None:
    image = np.zeros((240, 320, 3), np.uint8)
    image[..., 0] = 255  # pure red
    spec = ImageInput(
        name="x", width=320, height=240, colour="bgr", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)
    )
    tensor, _ = to_input(image, spec)
    assert tensor[0, 2].mean() == pytest.approx(1.0)  # red lands last, (1 - 0.5) / 0.5
    assert tensor[0, 0].mean() == pytest.approx(-1.0)


def test_a_frame_that_is_not_rgb_uint8_is_refused() -> None:
    with pytest.raises(ValueError, match=r"expected an RGB uint8 frame \(h, w, 3\), got float32"):
        to_input(np.zeros((240, 320, 3), np.float32), ImageInput(name="x", width=320, height=240))
