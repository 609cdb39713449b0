"""Insights: which generation settings make the pictures a person keeps."""

from .keepers import InsightsReport, KeeperFinding, KeptRule, SettingStat, keeper_report

__all__ = ["InsightsReport", "KeeperFinding", "KeptRule", "SettingStat", "keeper_report"]
