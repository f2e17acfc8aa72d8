"""Safe loading of uploaded scikit-learn model files (joblib or pickle).

``load_model(data, *, limits=None, sandbox=True) -> LoadedModel`` never calls ``joblib.load`` or
``pickle.load``: one restricted parser reads joblib's format (any compression, pickle protocols
0-5) and builds only objects from an explicit allow-list (``_allowlist.py``), checks crafted
compiled-model state (``_validate.py``), audits the finished object graph (``_audit.py``) and, with
``sandbox=True``, first does all of that plus one prediction in a resource-capped child process
(``_sandbox.py``). It raises only ``lib.errors.UnsafeModelError`` (the file asked for something
refused) or ``lib.errors.ModelFileError`` (damaged, truncated, not a model, too big).

Limits (``Limits``; ``Limits.from_env()`` reads these environment variables):

- ``MODEL_STUDIO_MAX_MODEL_BYTES``: uploaded file size (default 512 MiB)
- ``MODEL_STUDIO_MAX_INFLATED_BYTES``: size after decompression (default 1 GiB)
- ``MODEL_STUDIO_MAX_ITEM_BYTES``: one array / bytes / text / pickle frame (default 512 MiB)
- ``MODEL_STUDIO_MAX_OBJECTS``: pickle instructions plus audited objects (default 5,000,000)
- ``MODEL_STUDIO_MAX_DEPTH``: container nesting depth (default 500)
- ``MODEL_STUDIO_CHILD_MEMORY_BYTES``: extra address space for the sandbox child (default 4 GiB)
- ``MODEL_STUDIO_CHILD_TIMEOUT_SECONDS``: sandbox child wall time (default 60)
"""

from __future__ import annotations

import logging

from lib.errors import ModelFileError, UserError

from ._limits import Limits
from ._loader import LoadedModel, load_in_process
from ._messages import damaged, too_big

__all__ = ["Limits", "LoadedModel", "load_model", "warm_up"]

log = logging.getLogger(__name__)
# For parse failures whose internal cause (an UnpicklingError, an IndexError...) means nothing
# to a person; the cause is logged.
NOT_A_MODEL = (
    "it is not a complete joblib or pickle model file: it may be cut short, or not a saved "
    "model at all"
)


def load_model(data: bytes, *, limits: Limits | None = None, sandbox: bool = True) -> LoadedModel:
    """Safely load a model file's ``data``; raise UnsafeModelError or ModelFileError only."""
    limits = limits if limits is not None else Limits.from_env_or_default()
    try:
        if sandbox:
            from ._sandbox import check_in_child

            check_in_child(data, limits)
        return load_in_process(data, limits)
    except UserError as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(str(exc)) from None
    except (MemoryError, RecursionError) as exc:
        log.info("model file refused: %r", exc)
        raise too_big("reading it needs more memory or nesting than allowed") from None
    except Exception:
        log.info("model file could not be parsed", exc_info=True)
        raise damaged(NOT_A_MODEL) from None


def warm_up(*, sandbox: bool = True) -> None:
    """Do the loader's one-time work now, so the first upload is as quick as the rest: import
    the allow-listed modules and, with ``sandbox``, start the checker's pre-warmed process."""
    from ._loader import allow_list

    allow_list()
    if sandbox:
        from lib.worker import warm_up as start_workers

        start_workers()
