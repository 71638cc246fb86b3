"""Where tnrnn keeps its caches: ``$TNRNN_CACHE_DIR``, else the platform's user cache folder (platformdirs).

On Linux the latter is ``$XDG_CACHE_HOME/tnrnn`` (``~/.cache/tnrnn`` when ``XDG_CACHE_HOME`` is unset); on macOS
``~/Library/Caches/tnrnn``; on Windows the local application-data folder. Everything under it can be deleted at
any time: caches are rebuilt on demand.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The root folder of tnrnn's caches (not created here).

    Examples
    --------
    >>> import os
    >>> os.environ["TNRNN_CACHE_DIR"] = "/tmp/tnrnn-cache-example"
    >>> str(cache_root())
    '/tmp/tnrnn-cache-example'
    >>> del os.environ["TNRNN_CACHE_DIR"]
    """
    explicit = os.environ.get("TNRNN_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs  # only when no folder is given: it is the one place that knows each platform's rule

    return Path(platformdirs.user_cache_dir("tnrnn", appauthor=False))
