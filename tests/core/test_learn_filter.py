"""Learning a filter: it recovers known kernels, stops, pauses, fails well."""

import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from playground.core.control import RunControl
from playground.core.events import Paused, Resumed
from playground.core.filters.learn import (
    FilterFailed,
    FilterFinished,
    FilterProgress,
    LearnFilterError,
    LearnFilterSettings,
    kernel_error,
    learn_filter,
    make_target,
    prepare_for_learning,
)

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
GAUSS_3 = np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32) / 16
TERMINAL = (FilterFinished, FilterFailed)


def sample_image(n=64, seed=0, channels=1):
    """Discs of random grey over fine texture, lightly blurred: edges and
    texture like a photo's, yet varied enough that a 3x3 kernel is pinned
    down in a few hundred steps (a very smooth image makes that slow)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    planes = []
    for _ in range(channels):
        x = np.zeros((n, n), np.float32)
        for _ in range(12):
            cy, cx = rng.integers(0, n, 2)
            r = rng.integers(4, 16)
            x[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.random()
        x += 0.15 * rng.standard_normal((n, n)).astype(np.float32)
        x = make_target(x, GAUSS_3, padding_mode="reflect")
        x = (x - x.min()) / (x.max() - x.min())
        planes.append(0.5 * x + 0.5 * rng.random((n, n)).astype(np.float32))
    return np.stack(planes).astype(np.float32)


def run(image, target, control=None, **settings):
    return list(learn_filter(image, target, LearnFilterSettings(**settings), control))


def ending(events):
    ends = [e for e in events if isinstance(e, TERMINAL)]
    assert len(ends) == 1 and events[-1] is ends[0]
    return ends[0]


# -- recovering kernels ------------------------------------------------------------
@pytest.mark.parametrize("kernel", [SOBEL_X, GAUSS_3], ids=["sobel_x", "gauss"])
@pytest.mark.parametrize("use_tanh", [False, True], ids=["linear", "tanh"])
def test_recovers_a_known_kernel(kernel, use_tanh):
    image = sample_image()
    target = make_target(image, kernel, use_tanh=use_tanh)
    events = run(image, target, steps=300, learning_rate=0.03, use_tanh=use_tanh)
    end = ending(events)
    assert isinstance(end, FilterFinished) and not end.stopped
    assert end.steps == 300
    assert kernel_error(end.kernel, kernel).max() < 0.05
    progress = [e for e in events if isinstance(e, FilterProgress)]
    assert [p.step for p in progress] == list(range(1, 301))
    assert progress[-1].loss < progress[0].loss / 100
    assert end.output.shape == target.shape
    np.testing.assert_allclose(end.output, target, atol=0.02)


def test_colour_image_learns_one_kernel_for_all_channels():
    image = sample_image(48, seed=3, channels=3)
    target = make_target(image, SOBEL_X)
    assert target.shape == (3, 48, 48)
    end = ending(run(image, target, steps=300, learning_rate=0.03))
    assert kernel_error(end.kernel, SOBEL_X).max() < 0.05
    assert end.output.shape == (3, 48, 48)


def test_valid_padding_uses_the_centre_of_an_image_sized_target():
    # As in the lecture: the target was made with borders, the learner sees
    # only the pixels whose whole neighbourhood lies in the image.
    image = sample_image(40, seed=1)
    target = make_target(image, SOBEL_X, padding="same")
    end = ending(run(image, target, steps=300, learning_rate=0.03, padding="valid"))
    assert end.output.shape == (1, 38, 38)
    assert kernel_error(end.kernel, SOBEL_X).max() < 0.05


def test_two_runs_with_one_seed_agree_and_another_seed_differs():
    image = sample_image(24)
    target = make_target(image, GAUSS_3)
    a = ending(run(image, target, steps=5, seed=1))
    b = ending(run(image, target, steps=5, seed=1))
    c = ending(run(image, target, steps=5, seed=2))
    np.testing.assert_array_equal(a.kernel, b.kernel)
    assert not np.allclose(a.kernel, c.kernel)


def test_learning_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    image = sample_image(16)
    run(image, make_target(image, GAUSS_3), steps=3)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
def test_every_optimizer_lowers_the_loss(optimizer):
    image = sample_image(32)
    target = make_target(image, SOBEL_X)
    lr = {"sgd": 0.2, "momentum": 0.05, "adam": 0.03, "rmsprop": 0.01}[optimizer]
    events = run(image, target, steps=60, optimizer=optimizer, learning_rate=lr)
    first = next(e for e in events if isinstance(e, FilterProgress))
    assert ending(events).loss < first.loss / 4


def test_bias_is_learned_when_asked():
    image = sample_image(32)
    target = make_target(image, GAUSS_3) + 0.25
    end = ending(run(image, target, steps=400, learning_rate=0.03, bias=True))
    assert abs(end.bias - 0.25) < 0.05
    assert ending(run(image, target, steps=3)).bias == 0.0


# -- events ------------------------------------------------------------------------
def test_events_hold_numpy_and_floats_and_the_output_comes_every_few_steps():
    image = sample_image(16)
    events = run(image, make_target(image, GAUSS_3), steps=12, report_every=5)
    progress = [e for e in events if isinstance(e, FilterProgress)]
    with_output = [p.step for p in progress if p.output is not None]
    assert with_output == [1, 5, 10, 12]
    for p in progress:
        assert type(p.loss) is float and type(p.bias) is float
        assert isinstance(p.kernel, np.ndarray) and p.kernel.shape == (3, 3)
        assert p.kernel.dtype == np.float32
    assert progress[4].output.shape == (1, 16, 16)
    # copies: a later step does not change what an earlier event holds
    assert not np.shares_memory(progress[0].kernel, progress[1].kernel)
    assert not np.array_equal(progress[0].kernel, progress[-1].kernel)
    end = ending(events)
    assert isinstance(end.output, np.ndarray) and type(end.loss) is float


def test_a_snapshot_request_brings_the_output_at_the_next_step():
    image = sample_image(16)
    control = RunControl()
    gen = learn_filter(
        image, make_target(image, GAUSS_3), LearnFilterSettings(steps=50), control
    )
    assert next(gen).step == 1
    assert next(gen).output is None  # step 2
    control.request_snapshot()
    assert next(gen).output is not None  # step 3
    assert next(gen).output is None
    gen.close()


def test_two_dimensional_images_are_one_channel():
    image = sample_image(20)[0]
    target = make_target(image, SOBEL_X)
    assert target.shape == (20, 20)
    end = ending(run(image, target, steps=3, kernel_size=5))
    assert end.kernel.shape == (5, 5)
    assert end.output.shape == (1, 20, 20)


# -- stop, pause, step -------------------------------------------------------------
def test_stop_mid_run_finishes_with_the_kernel_so_far():
    image = sample_image(24)
    control = RunControl()
    events = []
    for event in learn_filter(
        image, make_target(image, SOBEL_X), LearnFilterSettings(steps=500), control
    ):
        events.append(event)
        if isinstance(event, FilterProgress) and event.step == 20:
            control.stop()
    end = ending(events)
    assert isinstance(end, FilterFinished) and end.stopped
    assert end.steps == 20
    np.testing.assert_array_equal(end.kernel, events[-2].kernel)


def test_pause_blocks_between_steps_and_resume_continues():
    image = sample_image(24)
    control = RunControl()
    events = []
    settings = LearnFilterSettings(steps=200)
    target = make_target(image, SOBEL_X)

    def consume():
        for event in learn_filter(image, target, settings, control):
            events.append(event)
            if isinstance(event, FilterProgress) and event.step == 10:
                control.pause()

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while not any(isinstance(e, Paused) for e in events):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)
    assert isinstance(events[-1], Paused) and events[-1].step == 10
    assert worker.is_alive()
    control.resume()
    worker.join(10)
    assert not worker.is_alive()
    kinds = [type(e) for e in events]
    assert kinds[10:12] == [Paused, Resumed]
    end = ending(events)
    assert isinstance(end, FilterFinished) and not end.stopped and end.steps == 200


def test_stop_while_paused_ends_stopped():
    image = sample_image(16)
    control = RunControl()
    events = []
    gen = learn_filter(
        image, make_target(image, GAUSS_3), LearnFilterSettings(steps=100), control
    )
    events.append(next(gen))
    control.pause()
    events.append(next(gen))
    assert isinstance(events[-1], Paused)
    threading.Timer(0.05, control.stop).start()
    events.extend(gen)
    end = ending(events)
    assert isinstance(end, FilterFinished) and end.stopped and end.steps == 1
    assert not any(isinstance(e, Resumed) for e in events)


def test_step_once_takes_one_step_with_its_output_then_pauses():
    image = sample_image(16)
    control = RunControl()
    gen = learn_filter(
        image, make_target(image, GAUSS_3), LearnFilterSettings(steps=100), control
    )
    next(gen)
    control.pause()
    assert isinstance(next(gen), Paused)
    control.step_once()
    assert isinstance(next(gen), Resumed)
    one = next(gen)
    assert isinstance(one, FilterProgress) and one.step == 2
    assert one.output is not None
    assert control.paused
    assert isinstance(next(gen), Paused)
    control.stop()
    assert ending(list(gen)).stopped


# -- failures ------------------------------------------------------------------------
def test_a_diverging_run_fails_with_advice():
    image = sample_image(16)
    target = make_target(image, SOBEL_X)
    events = run(image, target, steps=200, optimizer="sgd", learning_rate=1e8)
    end = ending(events)
    assert isinstance(end, FilterFailed)
    assert "lower" in end.message and "learning rate" in end.message
    assert end.step >= 1
    assert not any(isinstance(e, FilterFinished) for e in events)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"kernel_size": 0}, "kernel size"),
        ({"kernel_size": 8}, "kernel size"),
        ({"kernel_size": 3.0}, "kernel size"),
        ({"learning_rate": 0}, "learning rate"),
        ({"learning_rate": -0.1}, "learning rate"),
        ({"learning_rate": float("nan")}, "learning rate"),
        ({"steps": 0}, "steps"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"padding": "full"}, "padding"),
        ({"padding": -1}, "padding"),
        ({"padding_mode": "mirror"}, "padding mode"),
        ({"report_every": 0}, "report every"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(settings, words):
    image = sample_image(16)
    with pytest.raises(LearnFilterError, match=words):
        run(image, image, **settings)


def test_bad_input_is_refused_at_the_call_before_any_iteration():
    image = sample_image(16)
    with pytest.raises(LearnFilterError):
        learn_filter(image, image, LearnFilterSettings(kernel_size=9))
    with pytest.raises(LearnFilterError):
        learn_filter(image, image[:, :5])


def test_bad_images_and_targets_are_refused():
    image = sample_image(16, channels=3)
    grey = image[:1]
    with pytest.raises(LearnFilterError, match="1 channel but the image has 3"):
        run(image, grey)
    with pytest.raises(LearnFilterError, match="target is 10x10 pixels"):
        run(grey, grey[:, :10, :10])
    with pytest.raises(ValueError, match="NaN"):
        bad = grey.copy()
        bad[0, 3, 3] = np.nan
        run(bad, grey)
    with pytest.raises(LearnFilterError, match="shape"):
        run(np.zeros((2, 2, 4, 4), np.float32), grey)
    with pytest.raises(LearnFilterError, match="empty"):
        run(np.zeros((1, 0, 4), np.float32), grey)
    with pytest.raises(LearnFilterError, match="smaller than the 5x5 kernel"):
        run(grey[:, :3, :3], grey[:, :3, :3], kernel_size=5, padding="valid")
    with pytest.raises(LearnFilterError, match="reflect padding"):
        run(grey[:, :2, :2], grey[:, :2, :2], kernel_size=7, padding_mode="reflect")
    with pytest.raises(LearnFilterError, match="too large"):
        run(np.zeros((1, 2000, 2000), np.float32), np.zeros((1, 2000, 2000)))
    with pytest.raises(LearnFilterError, match="numbers"):
        run(np.array([["a", "b"], ["c", "d"]]), grey)


# -- helpers -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", ["same", "valid", 2])
def test_make_target_is_torch_cross_correlation_per_channel(mode, padding):
    rng = np.random.default_rng(0)
    image = rng.random((3, 11, 9)).astype(np.float32)
    kernel = rng.standard_normal((3, 3)).astype(np.float32)
    got = make_target(image, kernel, padding=padding, padding_mode=mode)
    p = {"same": 1, "valid": 0}.get(padding, padding)
    x = torch.from_numpy(image)[:, None]  # (channels, 1, height, width)
    if p:
        torch_mode = "constant" if mode == "zeros" else mode
        x = F.pad(x, (p, p, p, p), mode=torch_mode)
    want = F.conv2d(x, torch.from_numpy(kernel)[None, None])[:, 0].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert got.shape == (3, 11 + 2 * p - 2, 9 + 2 * p - 2)


def test_make_target_does_not_flip_the_kernel_and_pads_even_kernels_after():
    image = np.zeros((1, 7, 7), np.float32)
    image[0, 3, 3] = 1.0
    kernel = np.arange(9, dtype=np.float32).reshape(3, 3)
    out = make_target(image, kernel)[0]
    # a correlation's response to an impulse is the kernel turned half round
    np.testing.assert_array_equal(out[2:5, 2:5], kernel[::-1, ::-1])
    manual = sum(
        kernel[i, j] * np.pad(image[0], 1)[i : i + 7, j : j + 7]
        for i in range(3)
        for j in range(3)
    )
    np.testing.assert_allclose(out, manual)
    even = make_target(image, np.ones((2, 2), np.float32))
    assert even.shape == image.shape
    assert even[0, 2:4, 2:4].sum() == 4.0  # PyTorch's "same": the extra pixel after
    np.testing.assert_allclose(np.tanh(out), make_target(image, kernel, True)[0])


def test_make_target_refuses_bad_kernels():
    image = np.ones((8, 8), np.float32)
    with pytest.raises(LearnFilterError, match="2-D"):
        make_target(image, np.ones(3))
    with pytest.raises(LearnFilterError, match="7x7"):
        make_target(image, np.ones((9, 9)))
    with pytest.raises(LearnFilterError, match="finite"):
        make_target(image, np.full((3, 3), np.inf))


def test_prepare_for_learning_averages_large_images_down():
    rng = np.random.default_rng(0)
    big = rng.random((3, 300, 200)).astype(np.float32)
    small = prepare_for_learning(big)
    assert small.shape == (3, 128, 85) and small.dtype == np.float32
    assert abs(small.mean() - big.mean()) < 0.01
    # area averaging: noise averages out instead of aliasing through
    assert small.std() < big.std() / 2
    np.testing.assert_allclose(
        prepare_for_learning(np.full((256, 512), 0.3, np.float32), 64),
        np.full((32, 64), 0.3, np.float32),
        atol=1e-6,
    )
    tiny = rng.random((1, 40, 30)).astype(np.float32)
    np.testing.assert_array_equal(prepare_for_learning(tiny), tiny)
    with pytest.raises(LearnFilterError, match="max side"):
        prepare_for_learning(tiny, 0)


def test_kernel_error_compares_centred_kernels():
    err = kernel_error(SOBEL_X + 0.1, SOBEL_X)
    np.testing.assert_allclose(err, np.full((3, 3), 0.1), atol=1e-6)
    learned = np.zeros((5, 5), np.float32)
    learned[1:4, 1:4] = SOBEL_X
    learned[0, 0] = 0.5
    err = kernel_error(learned, SOBEL_X)
    assert err.shape == (5, 5)
    assert err[0, 0] == 0.5 and err.sum() == 0.5
    assert kernel_error(SOBEL_X, learned).shape == (5, 5)
    with pytest.raises(LearnFilterError):
        kernel_error(np.ones(3), SOBEL_X)


def test_a_128_pixel_image_learns_500_steps_in_a_few_seconds():
    image = np.random.default_rng(1).random((128, 128)).astype(np.float32)
    target = make_target(image, SOBEL_X)
    start = time.perf_counter()
    end = ending(run(image, target, steps=500))
    assert time.perf_counter() - start < 5.0
    assert end.steps == 500


def test_tolerance_ends_the_run_once_the_output_matches():
    from playground.core.filters.images import load_sample, to_gray
    from playground.core.filters.kernels import preset_kernel
    from playground.core.filters.learn import (
        FilterFinished,
        LearnFilterSettings,
        kernel_error,
        learn_filter,
        make_target,
        prepare_for_learning,
    )

    image = prepare_for_learning(to_gray(load_sample("camera").array), 48)
    target = make_target(image, preset_kernel("sobel x"))
    settings = LearnFilterSettings(
        learning_rate=0.1, steps=5000, report_every=1000, tolerance=1e-9
    )
    end = [e for e in learn_filter(image, target, settings)][-1]
    assert isinstance(end, FilterFinished)
    assert end.converged and not end.stopped and end.steps < 5000
    assert kernel_error(end.kernel, preset_kernel("sobel x")).max() < 0.01
    # 0 (the default) never ends early, even on a perfect start
    plain = LearnFilterSettings(steps=3, report_every=1)
    assert [e for e in learn_filter(image, target, plain)][-1].steps == 3


def test_tolerance_is_checked():
    import pytest

    from playground.core.filters.learn import LearnFilterError, LearnFilterSettings

    for bad in (-1e-9, 1.0, float("nan"), True):
        with pytest.raises(LearnFilterError, match="tolerance"):
            LearnFilterSettings(tolerance=bad).check()
