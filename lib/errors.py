"""The one error family meant for a person.

Every message says what is wrong and what to do about it. Pages show ``str(error)`` with
``st.error``; anything that is not a ``UserError`` is a bug and is logged, not shown.
"""


class UserError(Exception):
    """An input problem a person can fix. ``str(error)`` is the full, plain-language message."""


class DataError(UserError):
    """The uploaded table cannot be read or used as it is."""


class TrainingError(UserError):
    """The chosen target, features or settings cannot train a model."""


class ModelFileError(UserError):
    """A model file cannot be read (damaged, truncated, not a model)."""


class UnsafeModelError(ModelFileError):
    """A model file asks for something the safe loader refuses to do."""


class StoreError(UserError):
    """The model library refused an operation (bad name, existing entry, damaged entry)."""


class DamagedModelError(StoreError):
    """A saved version's model bytes are missing or no longer match their SHA-256."""


class PredictionError(UserError):
    """The rows do not fit what the model expects."""


class NotAllowed(UserError):
    """The signed-in person may not do this to a saved version (it belongs to someone else)."""
