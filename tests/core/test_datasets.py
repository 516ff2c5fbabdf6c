"""Datasets: shapes, dtypes, seeding, option checks, the user's CSV and images."""

import gzip

import numpy as np
import pytest
from PIL import Image

from playground.core.datasets import (
    Dataset,
    DatasetError,
    DatasetInfo,
    OptionSpec,
    get_dataset,
    list_datasets,
    resources_dir,
)

TOYS_2D = ["circle", "xor", "gaussian", "spiral", "moons"]
REGRESSION_2D = ["plane", "multi-gaussian"]
BUILTIN = TOYS_2D + REGRESSION_2D + ["sine", "iris", "digits"]
GENERATED = TOYS_2D + REGRESSION_2D + ["sine"]


def all_x(ds):
    return np.concatenate([ds.x_train, ds.x_val])


def all_y(ds):
    return np.concatenate([ds.y_train, ds.y_val])


# -- listing ----------------------------------------------------------------------
def test_listing_names_every_dataset_with_its_options():
    infos = {i.name: i for i in list_datasets()}
    assert set(BUILTIN + ["csv", "image-folder"]) <= set(infos)
    for info in infos.values():
        assert isinstance(info, DatasetInfo)
        assert info.title and info.description
        assert all(isinstance(o, OptionSpec) for o in info.options)
        names = [o.name for o in info.options]
        assert "seed" in names
        assert "train_percent" in names or "val_percent" in names
        for o in info.options:
            assert o.kind in ("int", "float", "choice", "path", "str", "bool")
            if o.kind == "choice":
                assert o.default in o.choices
    assert infos["iris"].size == 150 and infos["iris"].input_shape == (4,)
    assert infos["digits"].size == 1797 and infos["digits"].input_shape == (1, 8, 8)
    assert infos["circle"].size == 500 and infos["plane"].size == 1200
    assert infos["sine"].size == 200 and infos["sine"].input_shape == (1,)
    assert infos["csv"].size == 0 and infos["csv"].input_shape == ()


@pytest.mark.parametrize("name", BUILTIN)
def test_defaults_have_the_promised_shapes_and_types(name):
    ds = get_dataset(name)
    info = next(i for i in list_datasets() if i.name == name)
    assert isinstance(ds, Dataset)
    assert ds.name == name and ds.task == info.task
    assert ds.input_shape == info.input_shape
    assert len(ds.x_train) + len(ds.x_val) == info.size == ds.size
    for x in (ds.x_train, ds.x_val):
        assert x.dtype == np.float32 and x.shape[1:] == ds.input_shape
        assert np.isfinite(x).all()
    assert set(ds.options) == {o.name for o in info.options}
    assert ds.warnings == []
    if ds.task == "classification":
        assert ds.y_train.dtype == np.int64 and ds.y_train.ndim == 1
        assert ds.num_classes == len(ds.class_names) == ds.output_size
        assert ds.num_targets is None
        counts = np.bincount(all_y(ds), minlength=ds.num_classes)
        assert counts.min() > 0.5 * counts.max()  # roughly balanced, none empty
        # the split keeps every class on both sides
        assert set(np.unique(ds.y_val)) == set(range(ds.num_classes))
    else:
        assert ds.y_train.dtype == np.float32
        assert ds.y_train.shape == (len(ds.x_train), 1)
        assert ds.num_targets == ds.output_size == 1 and ds.num_classes is None
        assert np.abs(all_y(ds)).max() <= 1.0 + 1e-6
    assert len(ds.y_train) == len(ds.x_train) and len(ds.y_val) == len(ds.x_val)


@pytest.mark.parametrize("name", TOYS_2D + REGRESSION_2D)
def test_toys_live_on_tensorflow_playgrounds_axes(name):
    ds = get_dataset(name)
    assert np.abs(all_x(ds)).max() <= 6.0
    assert ds.feature_names == ["x1", "x2"] and ds.standardization is None
    assert len(ds.x_train) == len(ds.x_val)  # train_percent defaults to 50


@pytest.mark.parametrize("name", GENERATED + ["iris", "digits"])
def test_same_seed_same_arrays_other_seed_other_arrays(name):
    a, b, c = (get_dataset(name, seed=s) for s in (3, 3, 4))
    for attr in ("x_train", "y_train", "x_val", "y_val"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert not np.array_equal(a.x_train, c.x_train)


def test_the_split_has_its_own_stream():
    # changing the split moves points between the parts, never changes them
    a = get_dataset("spiral", noise=20, train_percent=30)
    b = get_dataset("spiral", noise=20, train_percent=70)
    rows = lambda ds: {tuple(r) for r in all_x(ds).tolist()}  # noqa: E731
    assert rows(a) == rows(b)
    assert len(a.x_train) == 150 and len(b.x_train) == 350


def test_points_noise_and_percent_options():
    ds = get_dataset("xor", points=101, noise=25, train_percent=80, seed=1)
    assert ds.size == 101 and len(ds.x_train) == 81
    assert ds.options == {
        "noise": 25, "points": 101, "features": "x1,x2", "train_percent": 80, "seed": 1
    }
    # iris takes either percent; options record the canonical one
    iris = get_dataset("iris", train_percent=60)
    assert len(iris.x_val) == 60 and iris.options["val_percent"] == 40
    assert len(get_dataset("circle", val_percent=20).x_val) == 100


def test_circle_inner_class_sits_inside_the_outer_class():
    ds = get_dataset("circle")
    r = np.hypot(*all_x(ds).T)
    y = all_y(ds)
    assert r[y == 1].max() <= 2.5 and r[y == 0].min() >= 3.5
    assert r[y == 1].mean() < r[y == 0].mean()
    # with noise some labels cross over, as in TensorFlow Playground
    noisy = get_dataset("circle", noise=50)
    rn, yn = np.hypot(*all_x(noisy).T), all_y(noisy)
    assert (yn[rn > 3.5] == 1).any() or (yn[rn < 2.5] == 0).any()


def test_xor_labels_follow_the_sign_of_the_product():
    ds = get_dataset("xor")
    x, y = all_x(ds), all_y(ds)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(np.int64))
    assert np.abs(x).min() >= 0.3  # the padding keeps points off the axes


def test_regression_toys_have_the_right_pattern():
    plane = get_dataset("plane")
    x, y = all_x(plane), all_y(plane)[:, 0]
    np.testing.assert_allclose(y, (x[:, 0] + x[:, 1]) / 12, atol=1e-6)
    gauss = get_dataset("multi-gaussian")
    x, y = all_x(gauss), all_y(gauss)[:, 0]
    near = np.hypot(x[:, 0] + 4, x[:, 1] - 2.5) < 0.5  # a positive bump
    assert near.any() and (y[near] > 0.7).all()
    sine = get_dataset("sine")
    np.testing.assert_allclose(all_y(sine)[:, 0], np.sin(all_x(sine)[:, 0]), atol=1e-6)
    assert np.abs(all_x(sine)).max() <= np.pi
    assert np.abs(all_x(get_dataset("sine", periods=2))).max() > np.pi


def test_noise_widens_the_gaussians():
    spread = lambda n: all_x(get_dataset("gaussian", noise=n)).std()  # noqa: E731
    assert spread(50) > 1.3 * spread(0)


def test_iris_is_standardised_with_training_statistics():
    ds = get_dataset("iris")
    assert ds.size == 150 and len(ds.x_val) == 30
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert len(ds.feature_names) == 4
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1, atol=1e-4)
    stats = ds.standardization
    assert stats["mean"].shape == (4,) and stats["std"].shape == (4,)
    raw = get_dataset("iris", standardize=False)
    assert raw.standardization is None
    np.testing.assert_allclose(ds.prepare_input(raw.x_val), ds.x_val, atol=1e-5)
    assert np.bincount(all_y(ds)).tolist() == [50, 50, 50]


def test_digits_are_8x8_images_in_0_1_or_flat():
    ds = get_dataset("digits")
    x = all_x(ds)
    assert ds.size == 1797 and x.shape[1:] == (1, 8, 8)
    assert x.min() == 0.0 and x.max() == 1.0
    assert ds.class_names == [str(d) for d in range(10)]
    flat = get_dataset("digits", flatten=True)
    assert flat.input_shape == (64,) and flat.x_train.shape[1:] == (64,)
    assert len(flat.feature_names) == 64
    np.testing.assert_array_equal(flat.x_train, ds.x_train.reshape(-1, 64))


def test_resources_dir_can_be_moved(monkeypatch, tmp_path):
    assert (resources_dir() / "datasets" / "iris.csv").is_file()
    monkeypatch.setenv("PLAYGROUND_RESOURCES", str(tmp_path))
    assert resources_dir() == tmp_path
    from playground.core.datasets import images, tabular

    tabular.load_iris.cache_clear()
    images.load_digits.cache_clear()
    try:
        with pytest.raises(DatasetError, match="PLAYGROUND_RESOURCES"):
            get_dataset("iris")
        (tmp_path / "datasets").mkdir()
        rows = "\n".join(",".join(["1"] * 64 + [str(i % 10)]) for i in range(20))
        with gzip.open(tmp_path / "datasets" / "digits.csv.gz", "wt") as f:
            f.write(rows + "\n")
        assert get_dataset("digits").size == 20
    finally:
        tabular.load_iris.cache_clear()
        images.load_digits.cache_clear()


# -- option checking --------------------------------------------------------------
@pytest.mark.parametrize(
    "name, options, message",
    [
        ("circel", {}, r"unknown dataset 'circel'; did you mean 'circle'"),
        ("circle", {"noise": 80}, r"noise must be a whole number from 0 to 50, got 80"),
        ("circle", {"noise": -1}, r"noise must be .* from 0 to 50"),
        ("circle", {"points": 5}, r"points must be a whole number from 10 to 100000"),
        ("circle", {"points": "many"}, r"points must be a whole number"),
        ("circle", {"points": 20.5}, r"points must be a whole number"),
        ("circle", {"points": True}, r"points must be a whole number"),
        ("circle", {"train_percent": 95}, r"train_percent must be .* from 10 to 90"),
        ("circle", {"colour": 1}, r"circle has no option 'colour'; its options are"),
        ("circle", {"seed": -1}, r"seed must be a whole number from 0"),
        ("iris", {"val_percent": 0}, r"val_percent must be a whole number from 5 to"),
        ("iris", {"val_percent": 20, "train_percent": 80}, r"not both"),
        ("digits", {"flatten": "perhaps"}, r"flatten must be true or false"),
        ("sine", {"periods": 9}, r"periods must be a whole number from 1 to 5"),
        ("csv", {}, r"csv: option path is required"),
        ("csv", {"path": "/no/such/file.csv"}, r"file not found"),
        ("image-folder", {"path": "/no/such/folder"}, r"folder not found"),
    ],
)
def test_bad_names_and_options_give_one_clear_line(name, options, message):
    with pytest.raises(DatasetError, match=message) as info:
        get_dataset(name, **options)
    assert "\n" not in str(info.value)


def test_options_accept_the_command_lines_spellings():
    ds = get_dataset("Multi_Gaussian", points="300", **{"train-percent": 60.0})
    assert ds.name == "multi-gaussian" and ds.size == 300
    assert ds.options["train_percent"] == 60
    assert get_dataset("digits", flatten="true").input_shape == (64,)


# -- CSV files --------------------------------------------------------------------
def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_classification_with_text_labels(tmp_path):
    rows = ["a,b,kind"] + [
        f"{i},{i % 7 * 1.5},{'cat' if i % 3 else 'dog'}" for i in range(60)
    ]
    ds = get_dataset("csv", path=write(tmp_path / "t.csv", "\n".join(rows)))
    assert ds.task == "classification" and ds.class_names == ["cat", "dog"]
    assert ds.feature_names == ["a", "b"] and ds.input_shape == (2,)
    assert ds.size == 60 and len(ds.x_val) == 12
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    assert ds.options["target"] == "kind" and ds.title == "t.csv"
    raw = get_dataset("csv", path=str(tmp_path / "t.csv"), standardize=False)
    assert raw.standardization is None and raw.x_train.max() > 10


def test_csv_regression_and_target_by_name(tmp_path):
    rows = ["y;x1;x2"] + [f"{i * 0.37:.3f};{i};{i % 5}" for i in range(40)]
    path = write(tmp_path / "r.csv", "\n".join(rows))  # semicolons, as Excel writes
    ds = get_dataset("csv", path=path, target="y", seed=2)
    assert ds.task == "regression" and ds.num_targets == 1
    assert ds.y_train.shape == (32, 1) and ds.y_train.dtype == np.float32
    assert ds.feature_names == ["x1", "x2"] and ds.class_names == []
    # few whole-number values: auto takes them as classes, sorted as numbers
    ints = get_dataset("csv", path=path, target="x2")
    assert ints.task == "classification"
    assert ints.class_names == ["0", "1", "2", "3", "4"]
    forced = get_dataset("csv", path=path, target="x2", task="regression")
    assert forced.task == "regression"


@pytest.mark.parametrize(
    "text, options, message",
    [
        ("a,b,y\n1,2,0\n3,oops,1\n", {}, r"column 'b' is not numeric \(row 3: 'oo"),
        ("a,b,y\n1,2,0\n3,,1\n4,5,0\n", {}, r"missing value in column 'b', row 3"),
        ("a,b,y\n1,2,0\n3,NA,1\n", {}, r"missing value in column 'b', row 3"),
        ("a,b,y\n1,2,0\n3,4,\n", {}, r"missing value in target column 'y', row 3"),
        ("a,b,y\n1,2,0\n3,4\n", {}, r"row 3 has 2 values but the header has 3"),
        ("a,b,y\n1,2,0\n3,4,1\n", {"target": "z"}, r"no column named 'z'; the col"),
        ("1,2,3\n4,5,6\n7,8,9\n", {}, r"no header row"),
        ("a,b,y\n1,2,x\n3,4,y\n", {"task": "regression"}, r"target column 'y' is not"),
        ("a,b,y\n1,2,1\n3,4,1\n", {}, r"single value"),
        ("", {}, r"is empty"),
        ("a,a,y\n1,2,1\n3,4,0\n", {}, r"'a' appears twice"),
    ],
)
def test_bad_csv_files_say_where(tmp_path, text, options, message):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DatasetError, match=message):
        get_dataset("csv", path=path, **options)


# -- image folders ----------------------------------------------------------------
def make_image_folder(root):
    """Two classes in several formats and modes, plus files to skip."""
    (root / "circles").mkdir(parents=True)
    (root / "squares").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        gray = rng.integers(0, 256, (12, 10), dtype=np.uint8)
        Image.fromarray(gray, "L").save(root / "circles" / f"g{i}.png")
        rgb = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
        Image.fromarray(rgb, "RGB").save(root / "squares" / f"c{i}.jpg", quality=90)
    Image.new("P", (16, 16), 3).save(root / "circles" / "palette.gif")
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))  # fully transparent
    rgba.save(root / "circles" / "clear.png")
    wide = np.full((6, 6), 65535, dtype=np.uint16)
    Image.fromarray(wide).save(root / "squares" / "deep.png")  # 16-bit grey
    Image.new("CMYK", (7, 7), (0, 0, 0, 0)).save(root / "squares" / "print.jpg")
    # a truncated PNG and a text file pretending to be an image
    data = (root / "circles" / "g0.png").read_bytes()
    (root / "circles" / "broken.png").write_bytes(data[: len(data) // 2])
    (root / "squares" / "notes.jpg").write_text("not an image")
    (root / "squares" / ".DS_Store").write_bytes(b"\0\1")


def test_image_folder_loads_every_readable_format(tmp_path):
    make_image_folder(tmp_path / "shapes")
    ds = get_dataset("image-folder", path=str(tmp_path / "shapes"), image_size=8)
    assert ds.task == "classification" and ds.class_names == ["circles", "squares"]
    assert ds.input_shape == (1, 8, 8) and ds.x_train.shape[1:] == (1, 8, 8)
    assert ds.size == 6 + 6
    x = all_x(ds)
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert sorted(np.bincount(all_y(ds)).tolist()) == [6, 6]
    skipped = " ".join(ds.warnings)
    assert len(ds.warnings) == 2
    assert "circles/broken.png" in skipped and "squares/notes.jpg" in skipped
    assert ".DS_Store" not in skipped


def test_image_modes_convert_by_look(tmp_path):
    from playground.core.datasets.image_folder import load_image

    wide = np.full((6, 6), 65535, dtype=np.uint16)
    Image.fromarray(wide).save(tmp_path / "deep.png")
    assert load_image(tmp_path / "deep.png", 4, 1).min() == 1.0  # scaled, not clipped
    half = np.full((6, 6), 32768, dtype=np.uint16)
    Image.fromarray(half).save(tmp_path / "half.png")
    assert load_image(tmp_path / "half.png", 4, 1) == pytest.approx(0.5, abs=0.01)
    Image.new("RGBA", (5, 5), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path / "clear.png", 4, 3).min() == 1.0  # white behind
    palette = Image.new("P", (5, 5), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.save(tmp_path / "red.png")
    red = load_image(tmp_path / "red.png", 4, 3)
    assert red.shape == (3, 4, 4)
    assert red[0].min() == 1.0 and red[1].max() == 0.0 and red[2].max() == 0.0
    Image.new("CMYK", (5, 5), (0, 0, 0, 255)).save(tmp_path / "black.jpg")
    assert load_image(tmp_path / "black.jpg", 4, 1).max() < 0.1


def test_image_folder_rgb_and_seeds(tmp_path):
    make_image_folder(tmp_path / "shapes")
    path = str(tmp_path / "shapes")
    a = get_dataset("image-folder", path=path, color="rgb", image_size=5, seed=1)
    b = get_dataset("image-folder", path=path, color="rgb", image_size=5, seed=1)
    assert a.input_shape == (3, 5, 5) and a.x_train.shape[1:] == (3, 5, 5)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)


def test_decompression_bombs_are_skipped(tmp_path, monkeypatch):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("L", (8, 8), i * 50).save(tmp_path / cls / f"{i}.png")
    Image.new("L", (30, 30)).save(tmp_path / "a" / "bomb.png")
    Image.new("L", (12, 12)).save(tmp_path / "b" / "big.png")
    # 900 pixels is over twice the limit (an error), 144 just over it (a warning)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 130)
    ds = get_dataset("image-folder", path=str(tmp_path), image_size=4)
    assert ds.size == 6
    assert sorted(ds.warnings) == [
        "skipped a/bomb.png: too many pixels (possible decompression bomb)",
        "skipped b/big.png: too many pixels (possible decompression bomb)",
    ]


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, r"is empty; put the images in one sub-folder per class"),
        ({"a.png": None}, r"has only loose files"),
        ({"cats/a.png": None}, r"has one class folder \(cats\)"),
        ({"cats/a.png": None, "dogs/": None}, r"class folder 'dogs' has no readable"),
        ({"cats/a.png": None, "dogs/x.png": b"junk"}, r"'dogs' has no readable images"),
    ],
)
def test_image_folder_problems(tmp_path, layout, message):
    root = tmp_path / "data"
    root.mkdir()
    for name, content in layout.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            target.mkdir(exist_ok=True)
        elif content is None:
            Image.new("L", (4, 4)).save(target)
        else:
            target.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        get_dataset("image-folder", path=str(root))


def test_many_skipped_files_are_counted_not_listed(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        Image.new("L", (4, 4)).save(tmp_path / cls / "ok.png")
        Image.new("L", (4, 4)).save(tmp_path / cls / "ok2.png")
    for i in range(25):
        (tmp_path / "a" / f"junk{i:02}.png").write_bytes(b"junk")
    ds = get_dataset("image-folder", path=str(tmp_path))
    assert len(ds.warnings) == 21 and ds.warnings[-1] == "... and 5 more files skipped"


def test_plane_features_add_columns_and_keep_the_points_and_split():
    plain = get_dataset("spiral", noise=10, seed=3)
    rich = get_dataset("spiral", noise=10, seed=3, features="sin x1, x1*x2,x1², x2")
    assert rich.options["features"] == "x2,x1^2,x1*x2,sin(x1)"
    assert rich.input_shape == (4,) and rich.x_train.shape == (250, 4)
    np.testing.assert_array_equal(rich.points_train, plain.x_train)
    p = rich.points_val
    expected = np.stack([p[:, 1], p[:, 0] ** 2, p[:, 0] * p[:, 1], np.sin(p[:, 0])], 1)
    np.testing.assert_allclose(rich.x_val, expected, rtol=1e-6)
    np.testing.assert_allclose(rich.featurize(p), rich.x_val)
    assert rich.is_plane and not get_dataset("iris").is_plane
    assert not get_dataset("sine").is_plane


@pytest.mark.parametrize("bad", ["", "x3", "x1,cos x1"])
def test_unknown_or_empty_features_are_refused_in_one_line(bad):
    with pytest.raises(DatasetError) as info:
        get_dataset("circle", features=bad)
    assert "\n" not in str(info.value) and "feature" in str(info.value)
