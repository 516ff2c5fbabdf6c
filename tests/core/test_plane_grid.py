"""Pictures over the plane: the grid is an image without flips, and the output
heatmap's values agree with the trainer's predictions."""

import numpy as np
import pytest

from playground.core.plane_grid import (
    GRID_SIZE,
    PLANE_HALF_WIDTH,
    as_images,
    colour_values,
    discretize,
    grid_points,
    output_values,
    plane_half_width,
    scale_units,
    to_pixels,
    upsample_bilinear,
)


def test_grid_is_row_major_from_the_top_left():
    n, half = 4, 6.0
    g = grid_points(half, n)
    assert g.shape == (n * n, 2) and g.dtype == np.float32
    step = 2 * half / n
    assert g[0] == pytest.approx([-half + step / 2, half - step / 2])  # top left
    assert g[n - 1] == pytest.approx([half - step / 2, half - step / 2])  # top right
    assert g[-1] == pytest.approx([half - step / 2, -half + step / 2])  # bottom right
    # a reshaped column is an image: x1 grows to the right, x2 upwards
    x1 = g[:, 0].reshape(n, n)
    x2 = g[:, 1].reshape(n, n)
    assert np.all(np.diff(x1, axis=1) > 0) and np.all(np.diff(x2, axis=0) < 0)


def test_points_land_on_the_pixels_of_their_grid_cell():
    half, side = 6.0, 200.0
    g = grid_points(half, GRID_SIZE)
    px = to_pixels(g, half, side)
    cell = side / GRID_SIZE
    cols = np.floor(px[:, 0] / cell).astype(int)
    rows = np.floor(px[:, 1] / cell).astype(int)
    k = np.arange(GRID_SIZE * GRID_SIZE)
    assert np.array_equal(rows, k // GRID_SIZE) and np.array_equal(cols, k % GRID_SIZE)


def test_plane_grows_only_for_points_outside_it():
    inside = np.array([[-5.9, 4.0], [3.0, 5.99]])
    assert plane_half_width(inside) == PLANE_HALF_WIDTH
    assert plane_half_width(inside, np.array([[0.0, -7.2]])) == 8.0
    assert plane_half_width(None, np.zeros((0, 2))) == PLANE_HALF_WIDTH
    assert plane_half_width(np.array([[np.nan, np.inf]])) == PLANE_HALF_WIDTH


def test_as_images_gives_one_picture_per_unit():
    n = 3
    values = np.arange(n * n * 2, dtype=np.float32).reshape(n * n, 2)  # (points, units)
    images = as_images(values, n)
    assert images.shape == (2, n, n)
    assert np.array_equal(images[1].ravel(), values[:, 1])
    assert as_images(values[:, 0], n).shape == (1, n, n)


def test_bilinear_upsampling_keeps_constants_and_ramps():
    flat = np.full((5, 5), 0.3, np.float32)
    assert np.allclose(upsample_bilinear(flat, 4), 0.3)
    ramp = np.tile(np.arange(5, dtype=np.float32), (5, 1))  # (5, 5), 0..4 across
    big = upsample_bilinear(ramp, 4)
    assert big.shape == (20, 20)
    assert big.min() == 0 and big.max() == 4
    assert np.all(np.diff(big, axis=1) >= 0)  # monotone across
    assert np.allclose(big[:, 2:18].mean(axis=0), (np.arange(2, 18) + 0.5) / 4 - 0.5)
    assert upsample_bilinear(ramp, 1) is not None


def test_output_is_the_probability_of_class_one():
    logits = np.array([[-1000.0], [0.0], [2.0], [1000.0]], np.float32)
    p = output_values(logits, classification=True)
    assert p == pytest.approx([0.0, 0.5, 1 / (1 + np.exp(-2)), 1.0])
    two = np.array([[0.0, 0.0], [1.0, 3.0], [500.0, -500.0]], np.float32)
    e = np.exp(np.array([3.0]))[0]
    assert output_values(two, True) == pytest.approx([0.5, e / (e + np.e), 0.0])
    probs = np.array([[0.2, 0.8]], np.float32)
    assert output_values(probs, True, probabilities=True) == pytest.approx([0.8])
    reg = np.array([[0.25, 9.0], [-3.0, 1.0]], np.float32)
    assert output_values(reg, classification=False) == pytest.approx([0.25, -3.0])


def test_colour_values_and_classes():
    p = np.array([0.0, 0.25, 0.5, 1.0], np.float32)
    assert colour_values(p, True) == pytest.approx([-1, -0.5, 0, 1])
    assert colour_values(np.array([-3, 0.5, 2.0]), False) == pytest.approx([-1, 0.5, 1])
    assert discretize(np.array([-0.2, 0.0, 0.7])) == pytest.approx([-1, 0, 1])


def test_scaling_keeps_bounded_units_and_stretches_others_per_unit():
    acts = np.array([[0.1, 10.0], [-0.2, -40.0], [3.0, 20.0]], np.float32)
    bounded = scale_units(acts, bounded=True)
    assert bounded[:, 0] == pytest.approx([0.1, -0.2, 1.0])
    per_unit = scale_units(acts, bounded=False, axis=0)
    assert np.abs(per_unit).max(axis=0) == pytest.approx([1.0, 1.0])
    assert per_unit[:, 1] == pytest.approx([0.25, -1.0, 0.5])
    whole = scale_units(acts, bounded=False)
    assert np.abs(whole).max() == pytest.approx(1.0)
    assert scale_units(np.zeros((3, 2)), bounded=False, axis=0) == pytest.approx(0.0)
    assert np.all(np.isfinite(scale_units(np.array([np.nan, 1.0]), bounded=False)))
