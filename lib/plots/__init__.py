"""Figure builders: pure functions from arrays and frames to plotly Figures (no streamlit).

No figure draws more than ``MAX_POINTS`` points in all its traces together (heatmap cells
count): scatter plots of rows are randomly sampled to ``SCATTER_POINTS`` (and the title says
so), histograms, bins and curves are aggregated or thinned in numpy first, so a figure stays
quick to send and draw. Scatter traces of rows carry ``customdata`` = the row position in the
caller's frame, so a selection maps back to rows.

One module per kind of figure: ``regression``, ``classification``, ``explanation``,
``slices``, ``tuning``, ``threshold``, ``compare``; what they share is in ``_base``. Every
builder is importable from ``lib.plots``.
"""

from lib.plots._base import (
    CURVE_POINTS,
    DRIFT_CATEGORIES,
    MAX_CLASSES,
    MAX_PANELS,
    MAX_POINTS,
    PALETTE,
    SCATTER_POINTS,
    THRESHOLDS,
    TOP_CATEGORIES,
    drawn_points,
    plot_text,
    sampled_title,
)
from lib.plots.classification import (
    calibration,
    confusion_matrix,
    precision_recall_curves,
    probability_distributions,
    roc_curves,
    threshold_curve,
)
from lib.plots.compare import class_agreement, predictions_against_predictions
from lib.plots.explanation import (
    drift_overlay,
    importance_bars,
    partial_dependence_plot,
)
from lib.plots.regression import (
    cv_spread,
    error_by_feature,
    predicted_vs_actual,
    prediction_distribution,
    residual_distribution,
    residuals_vs_predicted,
)
from lib.plots.slices import slice_metrics
from lib.plots.threshold import decision_threshold_curve
from lib.plots.tuning import tuning_scores
from lib.sampling import sample_indices

__all__ = [
    "CURVE_POINTS",
    "DRIFT_CATEGORIES",
    "MAX_CLASSES",
    "MAX_PANELS",
    "MAX_POINTS",
    "PALETTE",
    "SCATTER_POINTS",
    "THRESHOLDS",
    "TOP_CATEGORIES",
    "calibration",
    "class_agreement",
    "confusion_matrix",
    "cv_spread",
    "decision_threshold_curve",
    "drawn_points",
    "drift_overlay",
    "error_by_feature",
    "importance_bars",
    "partial_dependence_plot",
    "plot_text",
    "precision_recall_curves",
    "predicted_vs_actual",
    "prediction_distribution",
    "predictions_against_predictions",
    "probability_distributions",
    "residual_distribution",
    "residuals_vs_predicted",
    "roc_curves",
    "sample_indices",
    "sampled_title",
    "slice_metrics",
    "threshold_curve",
    "tuning_scores",
]
