"""Training-set export: a set, character, project, view or selection as a dataset folder or zip."""

from .export import ExportFile, ExportPlan, FolderReport, TrainingExport
from .options import TEMPLATE_FIELDS, ExportOptions

__all__ = ["TEMPLATE_FIELDS", "ExportFile", "ExportOptions", "ExportPlan", "FolderReport", "TrainingExport"]
