"""Training-set export: a set, character, project, view or selection as a dataset folder or zip."""

from .buckets import BucketPlacement, BucketRules, bucket_for
from .dataset_check import DatasetReport, Finding
from .export import FolderReport, TrainingExport
from .options import TEMPLATE_FIELDS, ExportOptions
from .plan import ExportFile, ExportPlan

__all__ = [
    "TEMPLATE_FIELDS",
    "BucketPlacement",
    "BucketRules",
    "DatasetReport",
    "ExportFile",
    "ExportOptions",
    "ExportPlan",
    "Finding",
    "FolderReport",
    "TrainingExport",
    "bucket_for",
]
