"""ONNX for an exported net: written by torch.onnx's dynamo exporter, then checked in onnxruntime.

The graph takes `input`, float32 (batch, 1, 28, 28) already normalised ((x / 255 - 0.1307) /
0.3081: the normalisation is not folded into the graph), with a dynamic batch dimension, and
returns `log_softmax`, (batch, 10). After writing, it runs on the given images in onnxruntime and
is compared with torch: argmax agreement and the largest absolute difference of the outputs.
onnx, onnxscript and onnxruntime come with the `export` extra (`pip install -e ".[export]"`).
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

OPSET = 18
MIN_AGREEMENT = 0.999  # argmax agreement with torch; near-tied outputs may differ
EXTRA_HINT = 'pip install -e ".[export]" (onnx, onnxscript, onnxruntime)'


@dataclass(frozen=True)
class OnnxCheck:
    opset: int
    images: int
    agreement: float  # fraction of images whose argmax is torch's
    max_abs_diff: float  # largest |onnxruntime - torch| over all outputs

    @property
    def ok(self) -> bool:
        return self.agreement >= MIN_AGREEMENT


def missing_packages() -> list[str]:
    """The packages ONNX export needs that are not installed."""
    return [name for name in ("onnx", "onnxscript", "onnxruntime") if not _installed(name)]


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def write_onnx(model: torch.nn.Module, path: Path) -> None:
    """`model` (eval mode, CPU) as ONNX at `path`, batch dimension dynamic."""
    model.eval()
    example = torch.zeros(2, 1, 28, 28)
    chatter = logging.getLogger("torch.onnx")  # e.g. "torchvision is not installed. Skipping..."
    level = chatter.level
    chatter.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and info chatter
            _export(model, example, path)
    finally:
        chatter.setLevel(level)


def _export(model: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=True,
        opset_version=OPSET,
        dynamic_shapes=({0: torch.export.Dim.DYNAMIC},),
        external_data=False,  # one self-contained file
        verbose=False,
    )


def check_onnx(path: Path, model: torch.nn.Module, images: torch.Tensor) -> OnnxCheck:
    """Run `path` in onnxruntime on `images` (normalised) and compare with `model` in torch."""
    import onnx
    import onnxruntime

    opset = next(
        o.version for o in onnx.load(str(path)).opset_import if o.domain in ("", "ai.onnx")
    )
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    model.eval()
    agree, worst = 0, 0.0
    with torch.inference_mode():
        for start in range(0, len(images), 1000):
            chunk = images[start : start + 1000].contiguous()
            theirs = torch.from_numpy(session.run(None, {name: chunk.numpy()})[0])
            ours = model(chunk)
            agree += int((theirs.argmax(1) == ours.argmax(1)).sum())
            worst = max(worst, float((theirs - ours).abs().max()))
    return OnnxCheck(opset, len(images), agree / len(images), worst)
