"""Plain-language refusal texts shared by the loader modules."""

from __future__ import annotations

from lib.errors import ModelFileError, UnsafeModelError

TRUST_HINT = "Only upload model files from people you trust."
RESAVE_HINT = (
    "Re-save the model with joblib.dump from a current scikit-learn, then upload it again."
)


def refuse(what: str, why: str) -> UnsafeModelError:
    """Return an UnsafeModelError: ``what`` the file asked for, ``why`` it was refused."""
    return UnsafeModelError(
        f"This file asks to {what}, which {why}. It was refused and nothing in it was run. "
        f"{TRUST_HINT}"
    )


def not_on_list(name: str) -> UnsafeModelError:
    """Return the refusal for a name that is not on the allow-list."""
    return refuse(f"call {name}", "is not on the list of things a scikit-learn model needs")


def bad_state(problem: str) -> UnsafeModelError:
    """Return the refusal for crafted or inconsistent model contents."""
    return UnsafeModelError(
        f"This file was refused because {problem}. A genuine scikit-learn file never looks like "
        f"this, so the file is damaged or was made to attack the app. {TRUST_HINT}"
    )


def damaged(problem: str) -> ModelFileError:
    """Return a ModelFileError for a damaged, truncated or unreadable file."""
    return ModelFileError(
        f"This model file cannot be read: {problem.rstrip('.')}. Check that you picked the right "
        "file and that it was fully uploaded; if it still fails, save the model again with "
        "joblib.dump."
    )


def too_big(problem: str) -> ModelFileError:
    """Return a ModelFileError for a file over one of the configured limits."""
    return ModelFileError(
        f"This model file is too big to load here: {problem}. Use a smaller model (fewer trees, "
        f"fewer features) or ask the operator to raise the limit."
    )
