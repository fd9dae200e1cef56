"""Counting the host's waits on the device: how the bench shows that an epoch reads it once.

On a GPU, `torch.cuda.set_sync_debug_mode("warn")` makes CUDA warn at every synchronising call
(a device-to-host read such as `float(t)` or `t.tolist()`, a copy from pageable host memory, an
explicit synchronise); `counting_syncs` counts those warnings. On any device it also counts the
host's reads of tensor values (`item`, `float`, `int`, `bool`, `tolist`, `numpy`) through a
`TorchFunctionMode`: on a GPU each read of a tensor on the GPU is a synchronisation, and on the
CPU the same count shows, without a GPU, which reads a loop would make there. Not counted: reads
of CPU tensors while measuring a GPU, and torch.optim's reads of its own step counters (CPU
tensors on every device, e.g. Adam's bias correction: they never wait for a GPU).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode

READS = frozenset({"item", "__float__", "__int__", "__bool__", "__index__", "tolist", "numpy"})


@dataclass
class Syncs:
    host_reads: int = 0  # reads of tensor values by the host, any device
    cuda: int | None = None  # CUDA's synchronising calls; None when not on a GPU


class _HostReads(TorchFunctionMode):
    def __init__(self, syncs: Syncs, device_type: str):
        super().__init__()
        self.syncs, self.device_type = syncs, device_type

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in READS and self._counts(args[0]):
            self.syncs.host_reads += 1
        return func(*args, **(kwargs or {}))

    def _counts(self, tensor) -> bool:
        if not isinstance(tensor, torch.Tensor) or tensor.device.type != self.device_type:
            return False
        caller = sys._getframe(2).f_globals.get("__name__", "")
        return not caller.startswith("torch.optim")


@contextlib.contextmanager
def counting_syncs(device: torch.device | str) -> Iterator[Syncs]:
    """Count, inside the block, host reads of tensor values and (on CUDA) synchronisations."""
    syncs = Syncs()
    on_cuda = torch.device(device).type == "cuda"
    with contextlib.ExitStack() as stack:
        caught = stack.enter_context(warnings.catch_warnings(record=True)) if on_cuda else []
        if on_cuda:
            warnings.simplefilter("always")
            previous = torch.cuda.get_sync_debug_mode()
            torch.cuda.set_sync_debug_mode("warn")
            stack.callback(torch.cuda.set_sync_debug_mode, previous)
        stack.enter_context(_HostReads(syncs, torch.device(device).type))
        yield syncs
        if on_cuda:  # CUDA's warning: "called a synchronizing CUDA operation"
            syncs.cuda = sum("synchroniz" in str(w.message) for w in caught)
