"""Run by the lerobot test environment's Python (not this project's): load a dataset folder
with `lerobot.datasets.lerobot_dataset.LeRobotDataset` and print, as one JSON line after
`RESULT `, every frame's features as lerobot returns them, its counters, tasks and stats.

    .venv-lerobot/bin/python tests/learner/lerobot_load.py DATASET
"""
import json
import sys

from lerobot.datasets.lerobot_dataset import LeRobotDataset

ds = LeRobotDataset("local/rlif-export", root=sys.argv[1])
frames = []
for i in range(len(ds)):
    item = ds[i]
    frames.append({k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in item.items()})
stats = {k: {s: v.tolist() for s, v in d.items()} for k, d in ds.meta.stats.items()}
episodes = ds.meta.episodes
print("RESULT " + json.dumps({"num_episodes": ds.num_episodes, "num_frames": ds.num_frames, "fps": ds.fps,
                              "features": ds.features, "frames": frames, "stats": stats,
                              "episode_lengths": list(episodes["length"]),
                              "rlif_operator": list(episodes["rlif/operator"]),
                              "robot_type": ds.meta.robot_type}))
