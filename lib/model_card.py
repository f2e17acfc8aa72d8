"""A one-page model card in Markdown, from what a model file says about itself.

``model_card(name, metadata)`` writes what the model predicts and from which columns, the
training data (rows, source, fingerprint), its figures with their 95 % intervals beside the
baseline and the cross-validation spread, the library versions it was made with, its known
limits (the warnings training recorded, the columns left out), and an "Intended use" section
left for the person to fill in. Every fact comes from the file's metadata (``lib.schema``), so a
card can be written for any model the app trained, here or elsewhere.

Every name and value from the file (the model's name, its columns, classes, categories, the
training data's name...) may come from a stranger, so each is written literally
(``lib.literal.literal``): the card shows no link, image or formatting from them wherever it is
rendered.
"""

from __future__ import annotations

import math

from lib.display import format_interval, format_metric, level_label, metric_label, summary_range
from lib.literal import literal
from lib.metrics import LOWER_IS_BETTER
from lib.schema import CLASSIFICATION, ModelMetadata
from lib.slices import MIN_SLICE_ROWS

FILL_IN = "_To be filled in by the person who hands this model on._"


def model_card(name: str, metadata: ModelMetadata) -> str:
    """The model card of the model ``name`` (Markdown, one page)."""
    sections = [
        _heading(name, metadata),
        _inputs(metadata),
        _figures(metadata),
        _decision(metadata),
        _prediction_intervals(metadata),
        _slices(metadata),
        _training_data(metadata),
        _limits(metadata),
        _versions(metadata),
        "## Intended use\n\n" + FILL_IN + "\n",
    ]
    return "\n".join(section for section in sections if section)


def _heading(name: str, metadata: ModelMetadata) -> str:
    model = literal(metadata.model.label or metadata.model.estimator)
    what = f"predicts **{literal(metadata.target)}** ({literal(metadata.task)})"
    if metadata.task == CLASSIFICATION and metadata.classes:
        what += ", one of " + ", ".join(f"'{literal(c)}'" for c in metadata.classes[:20])
        what += " …" if len(metadata.classes) > 20 else ""
    created = f" Created {literal(metadata.created_at)}." if metadata.created_at else ""
    settings = ", ".join(
        f"{literal(key)} = {literal(value)}" for key, value in metadata.model.params.items()
    )
    estimator = literal(metadata.model.estimator)
    lines = [f"# Model card: {literal(name)}", "", f"A {model} ({estimator}) that {what}."]
    lines[-1] += created
    if settings:
        lines += ["", f"Settings: {settings}."]
    return "\n".join(lines) + "\n"


def _inputs(metadata: ModelMetadata) -> str:
    rows = ["| column | kind | seen in training | missing |", "|---|---|---|---|"]
    for feature in metadata.features:
        seen = literal(summary_range(feature))
        rows.append(f"| {literal(feature.name)} | {literal(feature.kind)} | {seen} | "
                    f"{feature.missing_share:.0%} |")  # fmt: skip
    count = len(metadata.features)
    return f"## Inputs\n\n{count} column{'s' if count != 1 else ''}, by name:\n\n" + "\n".join(
        rows
    ) + "\n"  # fmt: skip


def _figures(metadata: ModelMetadata) -> str:
    figures = metadata.figures
    if figures is None:
        return "## Figures\n\nThe file holds no validation figures.\n"
    lines = ["## Figures", ""]
    if figures.holdout:
        lines += [
            "On held-out rows the model never saw in training, beside a baseline that always "
            "guesses (95 % intervals by bootstrap over those rows):",
            "",
            "| figure | value | 95 % interval | baseline |",
            "|---|---|---|---|",
        ]
        for metric, value in figures.holdout.items():
            interval = format_interval(figures.intervals.get(metric), metric) or "–"
            base = figures.baseline.get(metric)
            lines.append(
                f"| {_label(metric)} | {format_metric(value, metric)} | {interval} | "
                f"{format_metric(base, metric) if base is not None else '–'} |"
            )
        lines.append("")
    if figures.cv:
        lines += ["Cross-validation (mean ± std over the folds):", ""]
        lines += [
            f"- {_label(metric)}: {cv.mean:.3f} ± {cv.std:.3f} ({len(cv.folds)} folds)"
            for metric, cv in figures.cv.items()
        ]
        lines.append("")
    return "\n".join(lines)


def _slices(metadata: ModelMetadata) -> str:
    scan = metadata.slices
    if scan is None:
        return ""
    metric = _label(scan.metric)
    overall = format_metric(scan.overall, scan.metric)
    lines = [
        "## Where it does worst",
        "",
        f"{metric} on groups of the {scan.rows:,} held-out rows, for each input column "
        f"(categories, or five bins of a number), against {overall} on all of them. Groups of "
        f"fewer than {MIN_SLICE_ROWS} rows are not judged.",
        "",
    ]
    if not scan.worst:
        lines.append("No group large enough to judge did worse than all rows together.")
        return "\n".join(lines) + "\n"
    lines += ["| column | group | rows | value | 95 % interval | |", "|---|---|---|---|---|---|"]
    lower_is_better = scan.metric in LOWER_IS_BETTER
    for found in scan.worst:
        clearly = found.low > scan.overall if lower_is_better else found.high < scan.overall
        interval = format_interval((found.low, found.high), scan.metric)
        lines.append(
            f"| {_cell(found.column)} | {_cell(found.group)} | {found.rows:,} | "
            f"{format_metric(found.value, scan.metric)} | {interval} | "
            f"{'clearly worse' if clearly else 'within chance'} |"
        )
    lines += ["", '"Clearly worse": the whole interval is worse than the figure on all rows.']
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """``text`` shown literally inside a Markdown table cell (``|`` escaped, one line)."""
    return literal(text)


def _decision(metadata: ModelMetadata) -> str:
    """The tuned decision threshold of a binary classifier, when it has one."""
    if metadata.decision is None:
        return ""
    from lib.threshold import summary_lines  # scikit-learn only for cards that need it

    return "## Decision threshold\n\n" + "\n\n".join(summary_lines(metadata.decision)) + "\n"


def _prediction_intervals(metadata: ModelMetadata) -> str:
    calibration = metadata.prediction_intervals
    if calibration is None:
        return (
            "## Prediction intervals\n\nNone: the model was trained with neither held-out rows "
            "nor cross-validation, so nothing calibrates them.\n"
        )
    regression = calibration.task != CLASSIFICATION
    what = "intervals" if regression else "sets"
    lines = [
        "## Prediction intervals" if regression else "## Prediction sets",
        "",
        f"Each prediction comes with a prediction {what[:-1]} at a level the person picks, by "
        f"conformal prediction calibrated on {calibration.n_rows:,} rows the predicting models "
        "never saw (the file holds the calibration). At level 90 %, the "
        f"{what} hold the true value for at least 90 % of new rows like the training rows, on "
        "average; with the final model refitted on every row they tend to hold a little more. "
        "Measure it on labelled rows: Predict & plot, Performance tab.",
        "",
    ]
    if regression:
        lines += ["| level | half-width (± around the prediction) | bins of the prediction |",
                  "|---|---|---|"]  # fmt: skip
        for entry in calibration.levels:
            low, high = min(entry.quantiles), max(entry.quantiles)
            width = f"{low:.4g}" if math.isclose(low, high) else f"{low:.4g} to {high:.4g}"
            lines.append(f"| {level_label(entry.level)} | {width} | {len(entry.quantiles)} |")
    else:
        lines.append(
            "Levels available: " + ", ".join(level_label(v) for v in calibration.available) + "."
        )
    return "\n".join(lines) + "\n"


def _label(metric: str) -> str:
    direction = " (lower is better)" if metric in LOWER_IS_BETTER else ""
    return literal(metric_label(metric)) + direction


def _training_data(metadata: ModelMetadata) -> str:
    data = metadata.training_data
    if data is None:
        return ""
    lines = ["## Training data", ""]
    lines += [f"- Source: {literal(data.name)}"] if data.name else []
    lines += [
        f"- Rows: {data.rows:,}",
        f"- Fingerprint (SHA-256 of the training table): {literal(data.fingerprint)}",
    ]
    if data.rows_dropped_missing_target:
        lines.append(f"- Rows left out for a missing target: {data.rows_dropped_missing_target:,}")
    return "\n".join(lines) + "\n"


def _limits(metadata: ModelMetadata) -> str:
    lines = ["## Known limits", ""]
    lines += [f"- {literal(warning)}" for warning in metadata.warnings]
    lines += [
        f"- Column **{literal(name)}** was not used: {literal(why)}"
        for name, why in metadata.left_out.items()
    ]
    lines.append(
        "- Rows unlike the training data (values outside the ranges above, unseen categories) "
        "get less reliable predictions; the app's Drift tab shows them."
    )
    return "\n".join(lines) + "\n"


def _versions(metadata: ModelMetadata) -> str:
    if not metadata.versions:
        return ""
    listed = ", ".join(
        f"{literal(name)} {literal(version)}" for name, version in sorted(metadata.versions.items())
    )
    return f"## Made with\n\n{listed}. Load it with the same scikit-learn version.\n"
