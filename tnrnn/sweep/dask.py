"""The Dask executor: a remote scheduler (``tcp://`` or ``tls://``) or a local cluster with TLS on the loopback.

Safety rules, because Dask's protocol carries pickles (whoever can talk to a scheduler or worker runs code
there): a local cluster listens on 127.0.0.1 only, starts no dashboard and speaks mutual TLS with certificates
made for it alone (``distributed.Security.temporary()``, held in memory), so another local process, even of
the same user, cannot join it or submit work; a ``tls://`` scheduler is reached with the user's certificates
(``Security`` from arguments or from Dask's ``distributed.comm.tls`` configuration) and refused without them;
every connection and handshake has a timeout and the scheduler's first message is checked to be a small Dask
handshake before any client reads it; a sweep whose cluster has had no worker for ``no_worker_timeout`` seconds
fails with a clear error instead of waiting forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tnrnn.sweep.local import SweepExecutorError, usable_cpus
from tnrnn.sweep.worker import DIED_ERROR, error_text, infra_outcome, run_point

__all__ = ["dask_client", "run_dask", "check_scheduler_address", "tls_security", "NO_WORKER_TIMEOUT"]

# Seconds a sweep waits with no Dask worker connected before it fails.
NO_WORKER_TIMEOUT = 60.0

# A Dask handshake is a few hundred bytes; a first message that claims more is not from a Dask scheduler (and
# distributed would allocate whatever the 8-byte length prefix claims before reading it).
MAX_HANDSHAKE_BYTES = 2**20

_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\[[0-9a-fA-F:]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})/?$")


def check_scheduler_address(scheduler: Any) -> str:
    """Check a scheduler address (``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``HOST:PORT``) and return it.

    Raises
    ------
    SweepExecutorError
        Anything else (another protocol, no port, a port out of range).

    Examples
    --------
    >>> check_scheduler_address("tls://10.0.0.5:8786")
    'tls://10.0.0.5:8786'
    >>> check_scheduler_address("ucx://10.0.0.5:8786")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.sweep.local.SweepExecutorError: scheduler must be a Dask scheduler address such as 'tls://HOST:PORT'...
    """
    match = _ADDRESS.match(scheduler) if isinstance(scheduler, str) else None
    scheme = match.group("scheme") if match else None
    if match is None or scheme not in (None, "tcp", "tls") or not 0 < int(match.group("port")) < 65536:
        raise SweepExecutorError(
            "scheduler must be a Dask scheduler address such as 'tls://HOST:PORT' or 'tcp://HOST:PORT', got "
            f"{ascii(scheduler)[:200]}"
        )
    return scheduler


def tls_security(ca_file: str | None = None, cert: str | None = None, key: str | None = None) -> Any:
    """The ``distributed.Security`` of a ``tls://`` client: the files given, else Dask's TLS configuration.

    Parameters
    ----------
    ca_file, cert, key : str, optional
        PEM files: the certificate authority that signed the scheduler's certificate, this client's
        certificate, and its private key (omit ``key`` when it is inside ``cert``). When all are omitted,
        Dask's configuration is used (``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert``,
        ``distributed.comm.tls.client.key``, e.g. ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE``).

    Raises
    ------
    SweepExecutorError
        Dask is missing, a file is missing or unreadable, or no CA file and client certificate are known.

    Examples
    --------
    >>> tls_security()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tnrnn.sweep.local.SweepExecutorError: a tls:// scheduler needs a CA file and a client certificate...
    """
    try:
        from distributed import Security
    except ImportError:
        raise SweepExecutorError("executor 'dask' needs dask.distributed; install it with: "
                                 "pip install 'dask[distributed]'") from None
    for what, name in (("--tls-ca-file", ca_file), ("--tls-cert", cert), ("--tls-key", key)):
        if name is not None and not os.path.isfile(name):
            raise SweepExecutorError(f"{what} {ascii(str(name))[:200]} is not a readable file")
    if ca_file is None and cert is None and key is None:
        security = Security()  # from Dask's configuration
    else:
        security = Security(tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
    if not getattr(security, "tls_ca_file", None) or not getattr(security, "tls_client_cert", None):
        raise SweepExecutorError(
            "a tls:// scheduler needs a CA file and a client certificate: give --tls-ca-file and --tls-cert "
            "(and --tls-key), or set distributed.comm.tls.ca-file and distributed.comm.tls.client.cert in Dask's "
            "configuration"
        )
    return security


def _recv_exact(sock: Any, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def probe_scheduler(scheduler: str, timeout: float, security: Any = None) -> None:
    """Check that a Dask scheduler answers at ``scheduler`` within ``timeout`` seconds, before any client starts.

    A Dask scheduler sends its handshake as soon as a connection is accepted (after the TLS handshake on
    ``tls://``): an 8-byte length, then a message of that length. A listener that accepts and stays silent
    (or sends a byte and stops) would make ``distributed.Client`` wait forever, and one that sends garbage would
    make it allocate whatever the length claims; both are refused here, each read bounded by ``timeout``.

    Raises
    ------
    SweepExecutorError
        Nothing listens there, the TLS handshake fails, or no well-formed Dask handshake arrives in time.
    """
    import socket
    import ssl
    import struct

    match = _ADDRESS.match(scheduler)
    assert match is not None  # checked by check_scheduler_address
    host, port = match.group("host").strip("[]"), int(match.group("port"))
    shown = ascii(scheduler)
    hint = "check the address, or use --dask-local N to start a local cluster"
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            sock: Any = raw
            if match.group("scheme") == "tls":
                context = security.get_connection_args("client")["ssl_context"]
                # Dask checks the peer against the CA only, not a host name (cluster certificates rarely
                # name the address used to reach them); the same here.
                sock = context.wrap_socket(raw, server_hostname=None)
            head = _recv_exact(sock, 8)
            if len(head) < 8:
                raise SweepExecutorError(f"the listener at {shown} closed the connection without a Dask "
                                         f"handshake; {hint}")
            (size,) = struct.unpack("<Q", head)
            if size > MAX_HANDSHAKE_BYTES:
                raise SweepExecutorError(f"the listener at {shown} is not a Dask scheduler (its first message "
                                         f"claims {size} bytes; a handshake is a few hundred); {hint}")
            if len(_recv_exact(sock, size)) < size:
                raise SweepExecutorError(f"the listener at {shown} closed the connection inside its handshake; "
                                         f"{hint}")
    except TimeoutError:
        raise SweepExecutorError(f"no Dask handshake from {shown} within {timeout:g} s (nothing answers, or "
                                 f"it is not a Dask scheduler); {hint}") from None
    except ssl.SSLError as exc:
        raise SweepExecutorError(f"TLS handshake with {shown} failed ({' '.join(str(exc).split())[:160]}); "
                                 "check the certificates") from None
    except OSError as exc:
        raise SweepExecutorError(f"cannot reach the Dask scheduler at {shown} within {timeout:g} s "
                                 f"({exc.strerror or exc}); {hint}") from None


def check_local_workers(workers: int) -> int:
    """Refuse more local workers than usable CPUs (1000 workers on 2 cores only thrash and run out of memory).

    Examples
    --------
    >>> check_local_workers(1)
    1
    """
    cpus = usable_cpus()
    if workers > cpus:
        raise SweepExecutorError(f"{workers} local workers requested but this machine has {cpus} usable CPUs; "
                                 f"use at most {cpus} (each worker is a process running one point at a time)")
    return workers


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start child processes with SIGINT ignored (they inherit it), so Ctrl-C reaches only the parent."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _config(connect_timeout: float) -> dict:
    seconds = f"{connect_timeout:g}s"
    # No retry inside Dask: run_dask reruns each point Dask gave up on by itself. No statistical profiler
    # (it samples every worker's stack for a dashboard we do not start). The connect timeout also bounds the
    # handshake, so a peer that accepts but never answers fails in time (distributed's connect()).
    return {"distributed.scheduler.allowed-failures": 0, "distributed.worker.profile.enabled": False,
            "distributed.comm.timeouts.connect": seconds}


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None, connect_timeout: float,
                security: Any = None) -> Iterator[Any]:
    """A Dask client: connected to ``scheduler``, or to a loopback LocalCluster of ``workers`` processes.

    The local cluster speaks TLS with temporary certificates of its own; a ``tls://`` scheduler is reached
    with ``security`` (a ``distributed.Security``), else with Dask's TLS configuration ([`tls_security`][tnrnn.sweep.dask.tls_security]).
    """
    try:
        import dask
        from distributed import Client, LocalCluster, Security
    except ImportError:
        raise SweepExecutorError(
            "executor 'dask' needs dask.distributed; install it with: pip install 'dask[distributed]'"
        ) from None
    with contextlib.ExitStack() as stack:
        stack.enter_context(dask.config.set(_config(connect_timeout)))
        if scheduler is None:
            check_local_workers(workers)
            try:
                own = Security.temporary()  # a self-signed CA and certificate, in memory, for this cluster only
            except ImportError:
                raise SweepExecutorError("--dask-local needs the 'cryptography' package for its TLS certificates; "
                                         "install it with: pip install 'tnrnn[dask]'") from None
            try:
                with _sigint_ignored():
                    # Every listener on 127.0.0.1: the comms, and the scheduler's HTTP server (health and
                    # metrics routes, which distributed starts even without a dashboard, on all interfaces
                    # unless told otherwise); the dashboard itself is off. Mutual TLS: scheduler, workers and
                    # client each present the cluster's certificate, so no other process can connect.
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address="127.0.0.1:0", protocol="tls://",
                                           security=own, scheduler_kwargs={"dashboard": False},
                                           silence_logs=logging.ERROR)
            except (RuntimeError, OSError, TimeoutError) as exc:
                # Usually a worker process that cannot start, e.g. a script run from stdin or one without an
                # ``if __name__ == "__main__":`` guard (worker processes re-import the main module).
                raise SweepExecutorError(
                    f"could not start a local Dask cluster of {workers} worker(s) ({error_text(exc)}); run "
                    "from a script file guarded by `if __name__ == '__main__':`, or use the local executor"
                ) from exc
            stack.enter_context(cluster)
            client = stack.enter_context(Client(cluster, timeout=connect_timeout, security=own))
        else:
            check_scheduler_address(scheduler)
            if scheduler.startswith("tls://") and security is None:
                security = tls_security()
            elif not scheduler.startswith("tls://") and security is not None:
                raise SweepExecutorError("TLS certificates were given for a tcp:// scheduler; use its tls:// address")
            probe_scheduler(scheduler, connect_timeout, security)
            try:
                client = Client(scheduler, timeout=connect_timeout, security=security or Security())
            except (OSError, TimeoutError, ValueError, TypeError, MemoryError) as exc:
                raise SweepExecutorError(
                    f"cannot reach the Dask scheduler at {ascii(scheduler)} within {connect_timeout:g} s "
                    f"({error_text(exc)}); check the address, or use --dask-local N to start a local cluster"
                ) from None
            stack.enter_context(client)
        yield client


def _worker_count(client: Any) -> int:
    try:
        return len(client.scheduler_info(n_workers=-1).get("workers", {}))
    except TypeError:  # older distributed: no n_workers argument
        return len(client.scheduler_info().get("workers", {}))
    except Exception:  # noqa: BLE001 - a scheduler that cannot answer has no usable worker either
        return 0


def _next_done(ac: Any, client: Any, no_worker_timeout: float) -> Any:
    """The next finished future of ``ac``; fail when the cluster has had no worker for ``no_worker_timeout``."""
    alone_since = None
    last_check = 0.0
    while True:
        if ac.has_ready():
            return next(ac)
        now = time.monotonic()
        if now - last_check >= 1.0:
            last_check = now
            if _worker_count(client):
                alone_since = None
            elif alone_since is None:
                alone_since = now
            elif now - alone_since >= no_worker_timeout:
                raise SweepExecutorError(
                    f"the Dask cluster has had no worker for {no_worker_timeout:g} s; finished points are kept "
                    "in the results file: start workers (or use --dask-local N / --workers N) and rerun"
                )
        time.sleep(0.05)


def run_dask(task: str, todo: list[str], params: dict[str, dict], record: Callable[[str, dict], None],
             client: Any, no_worker_timeout: float = NO_WORKER_TIMEOUT) -> None:
    """Run the points ``todo`` on the cluster, calling ``record(key, outcome)`` in this process as each ends."""
    from distributed import as_completed

    started = time.perf_counter()
    key_of: dict[str, str] = {}  # Dask key -> point key
    unrecorded: list[Any] = []  # futures whose point has no record yet

    def submit(keys: list[str]) -> list[Any]:
        futures = client.map(run_point, [task] * len(keys), [params[k] for k in keys], pure=False,
                             key=[f"tnrnn-sweep-{k}-{os.urandom(4).hex()}" for k in keys])
        key_of.update((fut.key, k) for fut, k in zip(futures, keys))
        unrecorded.extend(futures)
        return futures

    def outcome_of(fut: Any) -> dict | None:
        """The point's outcome, or None when Dask gave up on it because workers died while it ran."""
        try:
            # result() rather than the status seen by as_completed: if the worker holding a finished result
            # dies before we fetch it, Dask recomputes the point and result() waits for that.
            return fut.result()
        except Exception as exc:  # noqa: BLE001 - run_point returns task errors, so this is the cluster's
            if type(exc).__name__ == "KilledWorker":
                return None
            return infra_outcome(error_text(exc), started)

    def finish(fut: Any, outcome: dict) -> None:
        record(key_of[fut.key], outcome)
        # Forgotten only once recorded: an interrupt before this leaves it to the handler below.
        unrecorded.remove(fut)
        fut.release()

    try:
        # Submit everything at once: Dask balances the load itself.
        suspects = []
        ac = as_completed(submit(todo))
        for _ in range(len(todo)):
            fut = _next_done(ac, client, no_worker_timeout)
            outcome = outcome_of(fut)
            if outcome is None:
                suspects.append(fut)
            else:
                finish(fut, outcome)
        # KilledWorker also blames points that merely waited on a worker that another point killed; rerun each
        # suspect alone, so only a point that kills a worker by itself is recorded as such.
        for old in suspects:
            unrecorded.remove(old)
            (fut,) = submit([key_of[old.key]])
            old.release()
            _next_done(as_completed([fut]), client, no_worker_timeout)
            outcome = outcome_of(fut)
            finish(fut, outcome if outcome is not None else infra_outcome(DIED_ERROR, started, "KilledWorker"))
    except (KeyboardInterrupt, SweepExecutorError):
        for fut in list(unrecorded):
            if fut.status == "finished":
                with contextlib.suppress(Exception):
                    finish(fut, fut.result(timeout=1))
        with contextlib.suppress(Exception):
            client.cancel(unrecorded, force=True)
        raise
