#!/usr/bin/env python3
"""Write the HDF5 SHD test fixtures from the .npz fixtures (a developer tool; needs h5py).

    python3 Scripts/make_shd_h5_fixtures.py Tests/PlasticityTests/Fixtures

Writes, in the published layout (spikes/times and spikes/units as one variable-length
vector per sample, labels, extra/speaker):
  shd_h5/shd_{train,test}.h5     the .npz fixtures' spikes (times float32, units int64)
  shd_h5_published/shd_{train,test}.h5
                                 the same with the published files' dtypes (times float16,
                                 units uint16, labels uint8)
  shd_h5_faults/<fault>.h5       broken copies of the training split, one fault each
"""
import os
import sys

import h5py
import numpy as np


def samples(npz_path):
    data = np.load(npz_path)
    offsets = data["offsets"]
    times = [data["times"][a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    units = [data["units"][a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    return times, units, data["labels"]


def write(path, times, units, labels, time_type, unit_type, label_type, skip=()):
    with h5py.File(path, "w") as f:
        if "times" not in skip:
            t = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(time_type))
            for i, row in enumerate(times):
                t[i] = np.asarray(row, dtype=time_type)
        if "units" not in skip:
            u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(unit_type))
            for i, row in enumerate(units):
                u[i] = np.asarray(row, dtype=unit_type)
        if "labels" not in skip:
            f.create_dataset("labels", data=np.asarray(labels, dtype=label_type))
        f.create_dataset("extra/speaker", data=np.zeros(len(labels), dtype=np.uint8))


def main(fixtures):
    for folder in ("shd_h5", "shd_h5_published", "shd_h5_faults"):
        os.makedirs(os.path.join(fixtures, folder), exist_ok=True)
    for split in ("train", "test"):
        times, units, labels = samples(os.path.join(fixtures, f"shd_{split}.npz"))
        write(os.path.join(fixtures, "shd_h5", f"shd_{split}.h5"), times, units, labels, np.float32, np.int64, np.int64)
        write(os.path.join(fixtures, "shd_h5_published", f"shd_{split}.h5"), times, units, labels, np.float16, np.uint16, np.uint8)
    times, units, labels = samples(os.path.join(fixtures, "shd_train.npz"))
    faults = os.path.join(fixtures, "shd_h5_faults")
    write(os.path.join(faults, "missing_labels.h5"), times, units, labels, np.float32, np.int64, np.int64, skip=("labels",))
    bad_units = [u.copy() for u in units]
    bad_units[2][0] = 700
    write(os.path.join(faults, "unit_out_of_range.h5"), times, bad_units, labels, np.float32, np.int64, np.int64)
    short_units = [u.copy() for u in units]
    short_units[1] = short_units[1][:-1]
    write(os.path.join(faults, "length_mismatch.h5"), times, short_units, labels, np.float32, np.int64, np.int64)
    with h5py.File(os.path.join(faults, "float_units.h5"), "w") as f:
        t = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
        u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.float32))
        for i in range(len(times)):
            t[i], u[i] = times[i].astype(np.float32), units[i].astype(np.float32)
        f.create_dataset("labels", data=np.asarray(labels))
    write_size_faults(faults, times, units, labels)
    with h5py.File(os.path.join(faults, "flat_times.h5"), "w") as f:
        f.create_dataset("spikes/times", data=np.concatenate(times).astype(np.float32))
        u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.int64))
        for i, row in enumerate(units):
            u[i] = row
        f.create_dataset("labels", data=np.asarray(labels))


def write_size_faults(faults, times, units, labels):
    # Times in integer milliseconds: read as seconds they would all fall outside the window.
    write(os.path.join(faults, "integer_times.h5"), [np.round(t * 1000) for t in times], units, labels, np.int64, np.int64, np.int64)
    # Labels declared as 2e9 entries of a chunked, compressed dataset with nothing written:
    # a file of a few KB that a reader would fill with 16 GB of zeros.
    write(os.path.join(faults, "sparse_labels.h5"), times, units, labels, np.float32, np.int64, np.int64, skip=("labels",))
    with h5py.File(os.path.join(faults, "sparse_labels.h5"), "a") as f:
        f.create_dataset("labels", (2_000_000_000,), dtype=np.int64, chunks=(1 << 16,), compression="gzip")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
