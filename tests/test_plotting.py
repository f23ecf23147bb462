"""Tests of the plotting helpers (course/plotting.py)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course.frowns import make_faces  # noqa: E402
from course.plotting import plot_curves, show_faces  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_faces_grid_and_label_titles():
    faces = make_faces(10, seed=0)
    fig = show_faces(faces.images, labels=faces.labels, ncols=4)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 12  # 3 rows x 4 columns, the last two left empty
    shown = [ax for ax in axes if ax.images]
    assert len(shown) == 10
    for ax, label, image in zip(shown, faces.labels, faces.images):
        assert ax.get_title() == ("frown" if label == 1 else "smile")
        assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
        im = ax.images[0]
        assert im.get_clim() == (0.0, 1.0)
        assert im.get_cmap().name == "gray"
        np.testing.assert_array_equal(im.get_array(), image)
    assert not axes[-1].axison


def test_show_faces_custom_titles_and_single_image():
    faces = make_faces(3, seed=1)
    fig = show_faces(faces.images, titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    fig = show_faces(faces.images[0])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == ""


def test_show_faces_rejects_bad_input():
    with pytest.raises(ValueError, match="labels"):
        show_faces(np.zeros((3, 8, 8)), labels=[0, 1])
    with pytest.raises(ValueError, match="shape"):
        show_faces(np.zeros((2, 3, 8, 8)))


def test_plot_curves_one_line_per_entry():
    x = np.arange(5)
    fig = plot_curves({"train": (x, x ** 2), "valid": (x, x + 1)}, xlabel="epoch",
                      ylabel="loss", title="learning curves")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["train", "valid"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), x ** 2)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_title() == "learning curves"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "valid"]


def test_plot_curves_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="train"):
        plot_curves({"train": ([1, 2, 3], [1, 2])}, "x", "y")
    with pytest.raises(ValueError):
        plot_curves({}, "x", "y")


def test_figures_can_be_saved(tmp_path):
    fig = show_faces(make_faces(4).images)
    path = tmp_path / "faces.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000
