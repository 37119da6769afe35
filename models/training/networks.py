"""The two networks, in torch: a CenterNet-style camera detector and a 1D lidar segmenter.

Both are small on purpose: the chair's board runs them on one CPU thread beside everything
else, the detector within 15 ms per 320 x 240 frame and the segmenter within 2 ms per scan.
Each network ends in the exact tensors the runtime (edge/perception) decodes, so the exported
graph needs no post-processing beyond what its description file declares.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["DETECTOR_STRIDE", "Detector", "Segmenter"]

DETECTOR_STRIDE = 8
"""Input pixels per output cell of the detector."""


def _conv(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class Detector(nn.Module):
    """Boxes from one RGB frame, CenterNet-style, at one eighth of the input's resolution.

    A plain backbone down to stride 32, merged top-down (nearest upsampling and addition, as
    a feature pyramid does) to the stride-8 map the heads read.

    Input: (N, 3, H, W) RGB scaled to [0, 1]. Output: (N, C + 4, H / 8, W / 8): per class a
    centre heatmap in [0, 1], then the centre's offset within its cell (x, y, in cells, 0..1),
    then the box's width and height in input pixels.
    """

    def __init__(self, classes: int, widths: tuple[int, int, int, int] = (16, 32, 64, 128)):
        super().__init__()
        a, b, c, d = widths
        self.classes = classes
        self.stem = nn.Sequential(_conv(3, a, 2), _conv(a, b, 2), _conv(b, b))
        self.stride8 = nn.Sequential(_conv(b, c, 2), _conv(c, c))
        self.stride16 = nn.Sequential(_conv(c, d, 2), _conv(d, d))
        # A stride-32 stage lets the heads see a whole person at arm's length (240 px tall).
        self.stride32 = nn.Sequential(_conv(d, d, 2), _conv(d, d))
        self.lateral32 = _conv(d, d, kernel=1)
        self.lateral16 = _conv(d, c, kernel=1)
        self.neck = _conv(c, c)
        self.heatmap = nn.Conv2d(c, classes, 1)
        self.offset = nn.Conv2d(c, 2, 1)
        self.size = nn.Conv2d(c, 2, 1)
        # The focal loss starts from a prior of 1 % objects per cell, as CenterNet does.
        nn.init.constant_(self.heatmap.bias, -4.6)  # type: ignore[arg-type]

    def features(self, x: Tensor) -> Tensor:
        """The stride-8 feature map the heads read."""
        up = nn.functional.interpolate
        fine = self.stride8(self.stem(x))
        middle = self.stride16(fine)
        # 240 rows are 15 at stride 16 and 8 at stride 32: upsample to the finer map's size.
        middle = middle + up(self.lateral32(self.stride32(middle)), size=middle.shape[-2:])
        merged: Tensor = self.neck(fine + up(self.lateral16(middle), scale_factor=2.0))
        return merged

    def raw(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Heatmap logits, offset logits and log sizes, for the losses."""
        f = self.features(x)
        return self.heatmap(f), self.offset(f), self.size(f)

    def forward(self, x: Tensor) -> Tensor:
        """The exported output: heatmap, offsets and sizes, decoded to their units."""
        heat, offset, log_size = self.raw(x)
        size = torch.exp(log_size.clamp(max=7.0)) * DETECTOR_STRIDE
        return torch.cat((torch.sigmoid(heat), torch.sigmoid(offset), size), dim=1)


class _Residual(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(
                channels,
                channels,
                5,
                padding=2 * dilation,
                dilation=dilation,
                padding_mode="circular",
                bias=False,
            ),
            nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True),
            nn.Conv1d(channels, channels, 1, bias=False),
            nn.BatchNorm1d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.body(x))


class Segmenter(nn.Module):
    """A class per beam from one 360-degree scan.

    Input: (N, 2, B): the range over the model's range_max, clipped to [0, 1] (1 for no
    return), and 1 where the beam returned a usable range, else 0. Output: (N, C, B) logits.
    Padding wraps around, since the first and last beams of a full scan are neighbours.
    """

    def __init__(self, classes: int, channels: int = 32) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv1d(2, channels, 5, padding=2, padding_mode="circular", bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True),
        )
        self.blocks = nn.Sequential(*(_Residual(channels, d) for d in (1, 2, 4, 8)))
        self.classify = nn.Conv1d(channels, classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Per-beam class logits."""
        logits: Tensor = self.classify(self.blocks(self.stem(x)))
        return logits
