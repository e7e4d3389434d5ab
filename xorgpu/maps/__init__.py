"""Maps of trainability: one net per pixel, two knobs varied across the picture.

- `axes.py`: what an axis varies (a learning rate, momentum, the init scale, an initial
  weight) over which range;
- `spec.py`: a map's description, and the nets of any range of its pixels;
- `train.py`: training a map, or a tile of it, on the engine a run would use;
- `result.py`: the per-pixel arrays and their .npz file;
- `dimension.py`: the box-counting dimension of the solved region's boundary;
- `zoom.py`: views around a point and zoom sequences;
- `render.py`, `summary.py`: pictures (PNG, GIF) and numbers (JSON, text).
"""

from .axes import Axis
from .result import MapResult
from .spec import MapSpec
from .train import train_map

__all__ = ["Axis", "MapResult", "MapSpec", "train_map"]
