#!/usr/bin/env python3
"""Convert the published Spiking Heidelberg Digits HDF5 files to the .npz form Plasticity reads.

Optional: needs `pip install h5py numpy`. Usage:
    python3 Scripts/shd_to_npz.py shd_train.h5 shd_train.npz
    python3 Scripts/shd_to_npz.py shd_test.h5 shd_test.npz
The .npz holds `times` (float32 seconds), `units` (int64), `offsets` (int64, n+1) and
`labels` (int64, n), as documented in Documentation/Training.md.
"""
import sys

import h5py
import numpy as np


def convert(source, target):
    with h5py.File(source, "r") as f:
        times = f["spikes"]["times"]
        units = f["spikes"]["units"]
        labels = np.asarray(f["labels"], dtype=np.int64)
        lengths = np.array([len(t) for t in times], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        np.savez(target,
                 times=np.concatenate([np.asarray(t, dtype=np.float32) for t in times]),
                 units=np.concatenate([np.asarray(u, dtype=np.int64) for u in units]),
                 offsets=offsets, labels=labels)
    print(f"{source}: {len(labels)} samples, {offsets[-1]} spikes -> {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    convert(sys.argv[1], sys.argv[2])
