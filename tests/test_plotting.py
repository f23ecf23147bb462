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


def test_log_scale_plain_labels_and_no_minor_ticks():
    from course.plotting import log_scale

    fig, ax = plt.subplots()
    ax.plot([1, 4, 16, 64, 256], [3e3, 9e3, 2e4, 4e4, 5e4])
    assert log_scale(ax, "both") is ax
    fig.canvas.draw()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    for axis in (ax.xaxis, ax.yaxis):
        assert len(axis.get_minor_locator().tick_values(1, 1000)) == 0 and not axis.get_minorticklocs().size, "no minor ticks"
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    assert {"1", "2", "5", "10", "100"} <= set(labels), labels
    assert not any("$" in text or "^" in text for text in labels), f"plain numbers, not 10^k: {labels}"
    narrow = [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()
              and 3e3 <= float(t.get_text()) <= 5e4]
    assert len(narrow) >= 2, f"a range of about a decade still gets labels: {narrow}"

    fig2, ax2 = plt.subplots()
    ax2.plot([0.5, 20], [1, 2])
    log_scale(ax2)
    assert ax2.get_xscale() == "log" and ax2.get_yscale() == "linear", "only the axis asked for"
    with pytest.raises(ValueError, match="'x', 'y' or 'both'"):
        log_scale(ax2, "z")
