"""The pinned baseline: the reference module as written, beside its spec (archs.pinned).

`BASELINE` is the spec; `build(BASELINE)` must equal `ReferenceNet` (10,066 parameters, the same
per-layer counts in module order, identical outputs with the same weights). `ReferenceNet` is kept
literally as the reference describes it, so the equality is tested, not assumed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ReferenceNet(nn.Module):
    """The reference network as written: F.relu, then BN, then Dropout(0.10) after each conv."""

    def __init__(self, dropout: float = 0.10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)  # 28 -> 26, rf 3
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3)  # 26 -> 24, rf 5
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 16, 3)  # 24 -> 22, rf 7
        self.bn3 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2, 2)  # 22 -> 11, rf 8
        self.bn_pool = nn.BatchNorm2d(16)
        self.trans = nn.Conv2d(16, 8, 1)  # 11 -> 11
        self.bn_trans = nn.BatchNorm2d(8)
        self.conv4 = nn.Conv2d(8, 16, 3)  # 11 -> 9, rf 12
        self.bn4 = nn.BatchNorm2d(16)
        self.conv5 = nn.Conv2d(16, 32, 3)  # 9 -> 7, rf 16
        self.bn5 = nn.BatchNorm2d(32)
        self.gap = nn.AvgPool2d(7)  # 7 -> 1
        self.head = nn.Conv2d(32, 10, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.bn1(F.relu(self.conv1(x))))
        x = self.drop(self.bn2(F.relu(self.conv2(x))))
        x = self.drop(self.bn3(F.relu(self.conv3(x))))
        x = self.drop(self.bn_pool(self.pool(x)))  # no relu after the pool
        x = self.drop(self.bn_trans(F.relu(self.trans(x))))
        x = self.drop(self.bn4(F.relu(self.conv4(x))))
        x = self.drop(self.bn5(F.relu(self.conv5(x))))
        x = self.head(self.gap(x))
        x = x.view(-1, 10)
        return F.log_softmax(x, dim=-1)
