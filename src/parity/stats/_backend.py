"""Array backends of the engines: numpy (BLAS) and PyTorch on a CPU or CUDA device.

The exact engine (:mod:`parity.stats.permutation`) asks a backend for products of Gram-matrix
row blocks with blocks of 0/1 splits; the random-feature engine (:mod:`parity.stats.rff`) for
centred features and split sums. Every reduction accumulates in float64 on both backends.
This module imports no engine, so every engine may import it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from parity._install import install_hint
from parity.errors import ParityInputError

UNIT_ROWS = 16384  # rows centred, multiplied and added up in float64 as one unit
FEATURE_ROWS = 2048  # rows per feature job
PERM_TILE = 256  # splits per product of the random-feature pass (and per cell of its sampler)


def one_blas_thread():
    """A context in which BLAS runs on one thread (threadpoolctl), so that a product's
    rounding does not depend on ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _map(pool: ThreadPoolExecutor | None, fn, jobs: list) -> list:
    """``[fn(j) for j in jobs]``, on the pool's threads when there is one and several jobs."""
    if pool is None or len(jobs) < 2:
        return [fn(j) for j in jobs]
    return list(pool.map(fn, jobs))


class _NumpyBackend:
    """The streaming pass on numpy arrays (BLAS products)."""

    name = "numpy"
    device = "numpy"

    def __init__(self, dtype: type) -> None:
        self.dtype = dtype

    def features(self, fmap, rows: np.ndarray, units: list[slice], pool):
        """Features of ``rows``, each unit centred on its mean; and the means (float64).

        Computed in pieces of 2048 rows on the pool's threads; each mean comes from its pieces'
        sums and is rounded to the features' dtype, so what is subtracted is exactly what is
        added back (the mean only has to be close, for the precision of the products).
        """
        out = np.empty((rows.shape[0], fmap.n_features), dtype=self.dtype)
        pieces = [
            slice(i, min(i + FEATURE_ROWS, rows.shape[0]))
            for i in range(0, rows.shape[0], FEATURE_ROWS)
        ]

        def make(p: slice) -> np.ndarray:
            phi = fmap(rows[p], self.dtype, out=out[p])
            return (np.ones(phi.shape[0], dtype=self.dtype) @ phi).astype(np.float64)

        piece_sums = _map(pool, make, pieces)
        means = []
        for unit in units:
            inside = [
                s
                for p, s in zip(pieces, piece_sums, strict=True)
                if unit.start <= p.start < unit.stop
            ]
            means.append((np.sum(inside, axis=0) / (unit.stop - unit.start)).astype(self.dtype))
        offsets = [means[p.start // UNIT_ROWS] for p in pieces]

        def shift(job) -> None:
            p, mean = job
            out[p] -= mean

        _map(pool, shift, list(zip(pieces, offsets, strict=True)))
        return out, [m.astype(np.float64) for m in means]

    def head_sum(self, phi: np.ndarray, k: int) -> np.ndarray:
        return phi[:k].sum(axis=0, dtype=np.float64)

    def staging(self, rows: int, cols: int) -> np.ndarray:
        return np.empty((rows, cols), dtype=self.dtype)

    def accumulate(
        self, sums, splits: np.ndarray, phi: np.ndarray, counts, mean, pool=None
    ) -> None:
        """``sums += splits @ phi + counts ⊗ mean``, the product in phi's dtype.

        OpenBLAS picks its float32 kernel, and so the rounding of the product, by the thread
        count and the matrix sizes (the null distribution differed at 1e-8 between 1 and 2
        threads). So the product runs on one BLAS thread, :data:`PERM_TILE` splits at a time
        (blocks start at multiples of it), the tiles in parallel on ``pool``: the same shapes
        whatever the threads and ``block``.
        """

        def product(r: int) -> None:
            tile = slice(r, r + PERM_TILE)
            np.add(sums[tile], splits[tile] @ phi, out=sums[tile])

        with one_blas_thread():
            _map(pool, product, list(range(0, splits.shape[0], PERM_TILE)))
        sums += counts[:, None] * mean

    def zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=np.float64)

    def vector(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float64)

    def numpy(self, a) -> np.ndarray:
        return np.asarray(a)

    def put(self, splits: np.ndarray) -> np.ndarray:
        """A block of 0/1 splits (N × b) where :meth:`row_products` wants it."""
        return splits

    def row_products(self, gram_rows: np.ndarray, splits, rows: slice):
        """For each split column ``a``, the float64 sums ``Σ_{i∈rows} a_i (G a)_i`` and
        ``Σ_{i∈rows} (G a)_i`` from one row block ``G[rows]`` of a symmetric Gram matrix."""
        product = gram_rows @ splits
        xx = np.einsum("ij,ij->j", splits[rows], product, dtype=np.float64)
        return xx, product.sum(axis=0, dtype=np.float64)


class _TorchBackend:
    """The same pass on torch tensors on ``device``; the splits come from numpy."""

    name = "torch"

    def __init__(self, torch, device, dtype: type) -> None:
        self.torch, self.dev = torch, device
        self.device = str(device)
        self.dtype = dtype
        self.tdtype = torch.float32 if dtype == np.float32 else torch.float64
        self._fmap_id, self._w = None, None

    def features(self, fmap, rows: np.ndarray, units: list[slice], pool):
        """Features of ``rows`` on the device, each unit centred on its mean; and the means."""
        t = self.torch
        if self._fmap_id is not id(fmap):
            self._fmap_id = id(fmap)
            freq = t.from_numpy(np.ascontiguousarray(fmap.frequencies)).to(self.dev)
            center = t.from_numpy(fmap.center).to(self.dev)
            weights = t.from_numpy(np.tile(fmap.weights, 2)).to(self.dev, self.tdtype)
            self._w = (freq, center, weights)
        freq, center, weights = self._w
        z = t.from_numpy(np.ascontiguousarray(rows, dtype=np.float64)).to(self.dev)
        proj = ((z - center) @ freq).to(self.tdtype)
        phi = t.cat([t.cos(proj), t.sin(proj)], dim=1).mul_(weights)
        means = []
        for unit in units:
            mean = (phi[unit].sum(dim=0, dtype=t.float64) / (unit.stop - unit.start)).to(phi.dtype)
            phi[unit] -= mean
            means.append(mean.to(t.float64))
        return phi, means

    def head_sum(self, phi, k: int):
        return phi[:k].sum(dim=0, dtype=self.torch.float64)

    def staging(self, rows: int, cols: int) -> np.ndarray:
        # On the CPU the float split rows are shared with torch; elsewhere the 0/1 bytes travel.
        dtype = self.dtype if self.dev.type == "cpu" else np.uint8
        return np.empty((rows, cols), dtype=dtype)

    def accumulate(self, sums, splits: np.ndarray, phi, counts, mean, pool=None) -> None:
        """``sums += splits @ phi + counts ⊗ mean``, the product in phi's dtype."""
        a = self.torch.from_numpy(splits)
        if self.dev.type != "cpu":
            a = a.to(self.dev).to(self.tdtype)
        sums.add_(a @ phi)
        sums.addr_(counts, mean)

    def zeros(self, shape):
        return self.torch.zeros(shape, dtype=self.torch.float64, device=self.dev)

    def vector(self, a: np.ndarray):
        return self.torch.from_numpy(np.asarray(a, dtype=np.float64)).to(self.dev)

    def numpy(self, a) -> np.ndarray:
        return a.detach().cpu().numpy()

    def put(self, splits: np.ndarray):
        """A block of 0/1 splits (N × b) on the device, in the products' dtype."""
        return self.torch.from_numpy(np.ascontiguousarray(splits)).to(self.dev)

    def row_products(self, gram_rows: np.ndarray, splits, rows: slice):
        """As the numpy backend's, the row block moved to the device and multiplied there."""
        t = self.torch
        g = t.from_numpy(np.ascontiguousarray(gram_rows)).to(self.dev)
        product = g @ splits
        xx = (splits[rows] * product).sum(dim=0, dtype=t.float64)
        return xx, product.sum(dim=0, dtype=t.float64)


def available_devices() -> list[str]:
    """Devices the torch backend can use here (``[]`` without torch).

    Examples
    --------
    >>> "cpu" in available_devices() or available_devices() == []
    True
    """
    try:
        import torch
    except ImportError:
        return []
    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return found


def resolve_backend(device: str | None, dtype: type):
    """The array backend for ``device``: None → numpy; ``"cpu"``, ``"cuda[:i]"`` → torch.

    Examples
    --------
    >>> resolve_backend(None, np.float32).name
    'numpy'
    """
    if device is None:
        return _NumpyBackend(dtype)
    if not isinstance(device, str):
        raise ParityInputError(
            f"`device` must be None (numpy), 'cpu' or 'cuda[:index]' (torch); got {device!r}"
        )
    try:
        import torch
    except ImportError:
        raise ParityInputError(
            f"`device` {device!r} needs PyTorch, which is not installed: "
            f"{install_hint('torch')} (or leave `device` unset for numpy)"
        ) from None
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ParityInputError(
            f"`device` must be None (numpy), 'cpu' or 'cuda[:index]' (torch); got {device!r}"
        ) from None
    ok = dev.type == "cpu" or (
        dev.type == "cuda"
        and torch.cuda.is_available()
        and (dev.index or 0) < torch.cuda.device_count()
    )
    if not ok:
        raise ParityInputError(
            f"`device` {device!r} is not available (torch {torch.__version__}, CUDA "
            f"{'available' if torch.cuda.is_available() else 'not available'}); "
            f"available: {available_devices()}"
        )
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return _TorchBackend(torch, dev, dtype)
