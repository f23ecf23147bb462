"""The `course` package: what the assignment notebooks import.

Data generators (frown faces, an event log), loaders for the small bundled data sets, plotting
helpers, friendly check helpers and the syllabus. Everything here is deterministic from a seed and
works from any working directory.
"""
from course.paths import data_dir, dataset_path

__all__ = ["data_dir", "dataset_path"]
__version__ = "0.1.0"
