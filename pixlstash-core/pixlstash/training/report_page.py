"""``dataset-report.html``, written beside a training export with ``dataset-report.json``: the dataset check
as one page a curator opens from the export's folder before the run. It is self-contained (no script, no
font, nothing fetched: it is read where the export is, offline) and every name in it (tags, files, the
trigger word) is escaped, since they come from the library and the files it imported."""

from __future__ import annotations

import html
from collections.abc import Mapping

from .dataset_check import DatasetReport

__all__ = ["report_page"]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 860px; padding: 0 16px; color: #1b1e23; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #e7e9ec; background: #121417; } .track { background: #262a31; } }
h1 { font-size: 20px; } h2 { font-size: 15px; margin-top: 24px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #8884; }
.track { display: inline-block; width: 240px; height: 10px; background: #e9ecf0; border-radius: 3px; vertical-align: middle; }
.fill { display: block; height: 100%; background: #4b7cb3; border-radius: 3px; }
.files { color: #5d6570; font-size: 12px; word-break: break-all; }
"""  # noqa: E501
_FILES_SHOWN = 40


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def report_page(report: DatasetReport, files: Mapping[int, str], title: str = "Dataset check") -> str:
    """The page for ``report``; ``files`` names each picture's file in the export (its findings list them)."""
    rules = report.rules
    most = max((b.pictures for b in report.buckets), default=1)
    rows = "".join(
        f"<tr><td>{b.bucket[0]}×{b.bucket[1]}</td><td>{b.pictures}</td><td><span class=track>"
        f'<span class=fill style="width:{100 * b.pictures / most:.0f}%"></span></span></td></tr>'
        for b in report.buckets
    )
    findings = "".join(
        f"<li>{_e(f.message)}"
        + (
            "<div class=files>"
            + _e(", ".join(files.get(i, f"picture {i}") for i in f.picture_ids[:_FILES_SHOWN]))
            + (f" and {len(f.picture_ids) - _FILES_SHOWN} more" if len(f.picture_ids) > _FILES_SHOWN else "")
            + "</div>"
            if f.picture_ids
            else ""
        )
        + "</li>"
        for f in report.findings
    )
    captions = report.captions
    tags = "".join(
        f"<tr><td>{_e(t.tag)}</td><td>{t.pictures}</td><td>{t.share:.0%}</td></tr>" for t in report.frequent_tags
    )
    variety = ""
    if report.embedding is not None:
        e = report.embedding
        variety += (
            f"<p>By meaning ({_e(e.engine_id)}): median distance to the set's centre {e.median:.3f}, 90th "
            f"percentile {e.p90:.3f}; {len(e.outliers)} outliers, {len(e.without)} pictures not embedded.</p>"
        )
    if report.identity is not None:
        d = report.identity
        variety += (
            f"<p>By face ({_e(d.engine_id)}): {d.pictures} pictures with a face, {len(d.someone_else)} like "
            f"someone else, {len(d.without_face)} without a face.</p>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_STYLE}</style></head><body>
<h1>{_e(title)}</h1>
<p>{report.pictures} pictures for {_e(rules.trainer)} at {rules.resolution} (buckets {rules.min_bucket_reso}–{rules.max_bucket_reso},
steps {rules.bucket_reso_steps}); {captions.captioned} captioned{f", trigger “{_e(captions.trigger)}”" if captions.trigger else ""}.</p>
<h2>Findings</h2>{f"<ul>{findings}</ul>" if findings else "<p>Nothing to fix.</p>"}
<h2>Buckets</h2><table><thead><tr><th>bucket</th><th>pictures</th><th></th></tr></thead><tbody>{rows}</tbody></table>
<h2>Captions</h2><p>{captions.captioned} of {report.pictures} captioned; {captions.words_min}–{captions.words_max} words,
median {captions.words_median:g}.</p>
{f"<table><thead><tr><th>tag</th><th>pictures</th><th>share</th></tr></thead><tbody>{tags}</tbody></table>" if tags else ""}
{f"<h2>Variety</h2>{variety}" if variety else ""}
</body></html>
"""  # noqa: E501
