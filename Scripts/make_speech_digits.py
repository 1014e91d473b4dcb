#!/usr/bin/env python3
"""Spoken digits in the Spiking Heidelberg Digits format, made offline.

The published SHD files (Cramer et al. 2020) cannot be downloaded everywhere. This script makes
a set of the same shape from synthetic speech: the digits 0-9 in English and German (20
classes, as SHD) spoken by espeak-ng's voices at several speeds and pitches, passed through a
cochlear front end — a 700-channel gammatone filter bank on an ERB scale, half-wave
rectification and compression, then one leaky integrate-and-fire neuron per channel — and
written as the .npz form `plasticity train --task shd --data DIR` reads (Documentation/Training.md).
The test split uses voices the training split never hears, as SHD's test speakers are unseen.

Optional: needs Debian's espeak-ng and numpy. Usage:
    python3 Scripts/make_speech_digits.py DIR [--channels 700] [--seed 1]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
TRAIN_VOICES = ["m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "adam", "david", "john", "linda", "max", "paul", "steph"]
TEST_VOICES = ["m7", "f4", "michael", "robert", "travis", "victor"]
SPEEDS = [130, 160, 190, 220]
PITCHES = [35, 65]
RATE = 16000
# Drive of the front end's neurons at full scale: about 10⁴ spikes per digit, as SHD's samples.
GAIN = 4.0


def speak(word, language, voice, speed, pitch):
    """The waveform (float, RATE Hz) of `word` spoken by an espeak-ng voice."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as file:
        subprocess.run(["espeak-ng", "-v", f"{language}+{voice}", "-s", str(speed), "-p", str(pitch), "-w", file.name, word],
                       check=True, capture_output=True)
        with wave.open(file.name) as audio:
            rate = audio.getframerate()
            samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16).astype(np.float64) / 32768
    # Resample to RATE by linear interpolation (espeak-ng speaks at 22050 Hz).
    times = np.arange(int(len(samples) * RATE / rate)) / RATE
    return np.interp(times, np.arange(len(samples)) / rate, samples)


def gammatone_bank(channels, length):
    """Frequency responses (channels × rfft bins) of 4th-order gammatone filters whose centres are
    evenly spaced on the ERB-rate scale between 50 Hz and 7.5 kHz (Glasberg & Moore 1990)."""
    erb_rate = lambda f: 21.4 * np.log10(1 + 0.00437 * f)
    inverse = lambda e: (10 ** (e / 21.4) - 1) / 0.00437
    centres = inverse(np.linspace(erb_rate(50), erb_rate(7500), channels))
    t = np.arange(int(0.05 * RATE)) / RATE
    bandwidth = 1.019 * 24.7 * (4.37e-3 * centres + 1)
    impulse = t ** 3 * np.exp(-2 * np.pi * bandwidth[:, None] * t) * np.cos(2 * np.pi * centres[:, None] * t)
    impulse /= np.abs(np.fft.rfft(impulse, 4096, axis=1)).max(axis=1, keepdims=True)
    return np.fft.rfft(impulse, length, axis=1)


def spikes(waveform, bank_cache, rng):
    """Spike times (s) and channels from one waveform: gammatone bank, half-wave rectification
    and cube-root compression, then a leaky integrate-and-fire neuron per channel (τ = 2 ms,
    refractory 1 ms, 0.25 ms steps) with a little noise, as an auditory-nerve front end."""
    n = len(waveform) + int(0.05 * RATE)
    length = 1 << int(np.ceil(np.log2(n)))
    if length not in bank_cache:
        bank_cache[length] = gammatone_bank(bank_cache["channels"], length)
    bands = np.fft.irfft(np.fft.rfft(waveform, length)[None, :] * bank_cache[length], length, axis=1)[:, :n]
    drive = np.cbrt(np.maximum(bands, 0))
    drive /= max(drive.max(), 1e-12)
    # The neurons run at 4 kHz (0.25 ms steps) on the drive averaged over each step.
    factor = 4
    steps = drive.shape[1] // factor
    drive = drive[:, :steps * factor].reshape(drive.shape[0], steps, factor).mean(axis=2)
    dt = factor / RATE
    decay, threshold, refractory = np.exp(-dt / 0.002), 1.0, int(round(0.001 / dt))
    v = np.zeros(drive.shape[0])
    silent = np.zeros(drive.shape[0], dtype=int)
    times, units = [], []
    noise = rng.normal(0, 0.02, size=drive.shape)
    for step in range(steps):
        v = decay * v + (1 - decay) * GAIN * drive[:, step] + noise[:, step]
        fired = (v > threshold) & (silent <= 0)
        silent -= 1
        if fired.any():
            channels = np.nonzero(fired)[0]
            times.append(np.full(len(channels), step * dt))
            units.append(channels)
            v[channels] = 0
            silent[channels] = refractory
    if not times:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    return np.concatenate(times).astype(np.float32), np.concatenate(units).astype(np.int64)


def make_split(voices, channels, rng):
    cache = {"channels": channels}
    all_times, all_units, offsets, labels = [], [], [0], []
    for label, word in enumerate(WORDS):
        language = "en" if label < 10 else "de"
        for voice in voices:
            for speed in SPEEDS:
                for pitch in PITCHES:
                    times, units = spikes(speak(word, language, voice, speed, pitch), cache, rng)
                    all_times.append(times)
                    all_units.append(units)
                    offsets.append(offsets[-1] + len(times))
                    labels.append(label)
    return dict(times=np.concatenate(all_times), units=np.concatenate(all_units),
                offsets=np.array(offsets, dtype=np.int64), labels=np.array(labels, dtype=np.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--channels", type=int, default=700)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    os.makedirs(options.directory, exist_ok=True)
    rng = np.random.default_rng(options.seed)
    for name, voices in [("train", TRAIN_VOICES), ("test", TEST_VOICES)]:
        split = make_split(voices, options.channels, rng)
        path = os.path.join(options.directory, f"shd_{name}.npz")
        np.savez(path, **split)
        print(f"{path}: {len(split['labels'])} samples, {len(split['times'])} spikes, "
              f"{len(split['times']) / len(split['labels']):.0f} per sample")


if __name__ == "__main__":
    sys.exit(main())
