"""Reads a TensorBoard log folder with TensorBoard's own loader (EventAccumulator, the code
behind `tensorboard --logdir`) and prints {tag: [[step, value], ...]} as JSON, for
tests/monitor.rs. Needs `pip install tensorboard`."""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})  # 0: keep every event
acc.Reload()
out = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
json.dump(out, sys.stdout)
