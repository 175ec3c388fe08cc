"""Shared core of the stance project: paths, errors, typed configs and the label scheme."""

import os

# Every package of the project imports this one first, so this is set before torch loads MKL. On an
# AVX-512 CPU (an Intel Xeon) MKL's default matrix products gave a sentence's encoding different
# last bits alone and in a batch, so an encoding depended on what it was batched with (near ties
# flip with it); an AMD EPYC's did not. MKL's strict reproducible mode makes them the same, at
# about the default's speed (mpnet, 400 sentences: 9.0 s against 8.9 s; COMPATIBLE took 33.8 s).
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
