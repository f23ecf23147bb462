"""Small plotting helpers for the notebooks.

Both figure functions return a matplotlib ``Figure`` and never call ``plt.show()``: in Jupyter
the figure is displayed when it is the last value of a cell; in a script, save it with
``fig.savefig("name.png")``. ``log_scale`` puts an axis on a log scale that reads well and draws fast.

    from course.frowns import make_faces
    from course.plotting import show_faces, plot_curves
    faces = make_faces(16)
    fig = show_faces(faces.images, faces.labels)
    fig = plot_curves({"train": (epochs, train_loss), "valid": (epochs, valid_loss)},
                      xlabel="epoch", ylabel="loss")
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from course.validation import check_choice

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["show_faces", "plot_curves", "log_scale", "LABEL_NAMES"]

#: How labels are written above faces: 1 = frown, 0 = smile.
LABEL_NAMES = {0: "smile", 1: "frown"}


def show_faces(images, labels=None, titles=None, ncols: int = 8, ax_size: float = 1.2) -> Figure:
    """Show grayscale images in a grid and return the Figure.

    Parameters
    ----------
    images : array of shape (n, h, w) or (h, w)
        Pixel values in [0, 1] (shown with a fixed grey scale: 0 = black, 1 = white).
    labels : sequence of 0/1, optional
        Written above each face as "frown" (1) or "smile" (0).
    titles : sequence of str, optional
        Your own title for each face (wins over ``labels``).
    ncols : int
        Faces per row.
    ax_size : float
        Size of each face in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The grid of faces.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), got {images.shape}")
    n = len(images)
    if n == 0:
        raise ValueError("images is empty; pass at least one image")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    for name, values in (("labels", labels), ("titles", titles)):
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries but there are {n} images")

    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * ax_size, nrows * (ax_size + 0.25)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
        elif labels is not None:
            ax.set_title(LABEL_NAMES.get(int(labels[i]), str(labels[i])), fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], xlabel: str,
                ylabel: str, title: str | None = None) -> Figure:
    """Draw one line per entry of ``curves`` with a legend.

    Parameters
    ----------
    curves : mapping of str to (x, y)
        One line per name; ``x`` and ``y`` of the same shape.
    xlabel, ylabel : str
        The axes' labels.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    ``plot_curves({"train": (epochs, train_loss)}, "epoch", "loss")``
    """
    if not isinstance(curves, Mapping) or len(curves) == 0:
        raise ValueError("curves must be a non-empty dict {name: (x, y)}")
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, xy in curves.items():
        if len(xy) != 2:
            raise ValueError(f"curves[{name!r}] must be a pair (x, y)")
        x, y = np.asarray(xy[0]), np.asarray(xy[1])
        if x.shape != y.shape:
            raise ValueError(
                f"curves[{name!r}]: x has shape {x.shape} but y has shape {y.shape}"
            )
        ax.plot(x, y, label=str(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def log_scale(ax: Axes, axis: str = "x") -> Axes:
    """Put ``axis`` of ``ax`` ("x", "y" or "both") on a log scale with ticks at 1, 2 and 5 times the
    powers of ten, labelled as plain numbers ("2", "50", "0.01") rather than 10 to a power, and no
    minor ticks.

    Easier to read than matplotlib's default, and far cheaper to draw: the default places (and
    often labels) a minor tick at every multiple of every power of ten, which can take most of the
    time a notebook spends showing a small figure.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to change.
    axis : {"x", "y", "both"}, default "x"
        Which axis goes on a log scale.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, changed.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    check_choice("axis", axis, ("x", "y", "both"))
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"set_{name}scale")("log")
        target = ax.xaxis if name == "x" else ax.yaxis
        target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        target.set_minor_locator(NullLocator())
    return ax
