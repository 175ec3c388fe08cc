"""The whole of all-mpnet-base-v2 fine-tuned on the rolling origin, five seeds, on a lent GPU (issue 11).

On 2 cores one whole-encoder fit of mpnet takes about an hour (session 20: 1617 s for a fit of the
time split alone), so the rolling origin's three blocks times several seeds was out of reach: the
whole-encoder fine-tune was read once, on the time split, one seed (0.736 blended, level). A GPU
lent for 15 minutes makes the question cheap: does the whole-encoder fine-tune, or the mean of five
seeds of it, blended with ``make demo``'s recipe as the blends are, beat that recipe on the rolling
origin's 133 articles, and on the older blocks where the top-two-layers blend trailed?

Three steps, so that the GPU machine needs nothing but its own torch:

``export`` (here)
    the rolling origin's blocks (``experiments/rolling_origin.blocks``: block 1 is the time split),
    each sentence tokenized here by the packaged mpnet's tokenizer (128 tokens, as the recipe), the
    validation articles early stopping holds out (``finetune_data.validation_split``, ``newest``),
    and the encoder's weights in float16 with the embedding rows of the tokens these sentences use
    (every special token kept at its id), cut into pieces under the git-ignored ``.gpu*/`` folders
    that a device call can carry (64 MiB a call; the machine keeps each piece in its /tmp between
    calls, and `train` joins them and checks their sha256).
``train`` (the GPU machine; torch, numpy, transformers and scikit-learn, all in its image)
    fits ``finetune``'s two-head model (mean pooling, class-weighted losses, the actor loss on
    stance-bearing sentences only, early stopping on validation stance macro-F1, a temperature per
    head) for every block and seed, several fits at once on the one GPU, and writes each test
    sentence's probabilities as fits finish.
``score`` (here)
    refits ``make demo``'s recipe per block for its probabilities (cached), blends the fine-tune's
    stance probabilities with them 0.5 / 0.5, the demo recipe's holders kept (the blend recipes'
    rule), and compares every variant with the demo recipe, paired by article.

Everything was set before the run: the recipe is experiments/time-split-recipes/finetune-mpnet.yaml
(5 epochs, learning rate 4e-5, batch 16) with ``validation: newest`` (the blends'), seeds 0-4.

    .venv/bin/python experiments/gpu_finetune.py export
    (device) python3 experiments/gpu_finetune.py train --out $OUT
    .venv/bin/python experiments/gpu_finetune.py score --probs FILE... --name NAME [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository travels to the GPU machine: its numpy-only helpers (training.calibration,
# training.models.finetune_data) import there, nothing else of the project does
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))
DATA = ROOT / ".gpud" / "data.json"
PIECES = [ROOT / f".gpu{i}" for i in range(1, 5)]
WEIGHTS = "weights.safetensors"
OUT = ROOT / "experiments" / "gpu-finetune"
DEMO = "configs/hybrid-mpnet-broker-mean-parse.yaml"
SEEDS = (0, 1, 2, 3, 4)
# experiments/time-split-recipes/finetune-mpnet.yaml, finetune.py's defaults otherwise; validation newest
SETTINGS = {
    "epochs": 5,
    "learning_rate": 4e-5,
    "batch_size": 16,
    "weight_decay": 0.01,
    "warmup": 0.1,
    "dropout": 0.1,
    "patience": 3,
    "max_length": 128,
    "validation": "newest",
    "validation_share": 0.15,
}


# -- the labeled data and the rolling origin's blocks (here) ----------------------------------
def _labeled():
    """(scheme, data version, every labeled sentence, their articles, the rolling origin's blocks),
    as experiments/rolling_origin.py cuts them (block 1 is the dataset's time split)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import concatenate_datasets
    from rolling_origin import blocks

    from stance.scheme import Scheme
    from training import dataset

    scheme = Scheme.load()
    dd, meta = dataset.load(None, scheme)
    data = concatenate_datasets([dd["train"], dd["test"]])
    articles = list(data["article"])
    cuts = blocks(articles, {a: d or None for a, d in zip(articles, data["date"], strict=True)})
    assert cuts[0][1] == set(dd["test"]["article"]), "block 1 must be the dataset's time split"
    return scheme, meta["data_version"], data, articles, cuts


# -- export (here) ----------------------------------------------------------------------------
def export(piece_mb: int) -> None:
    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    from training.models import encoder, finetune_data

    scheme, version, data, articles, cuts = _labeled()
    where = encoder.resolve("packaged:all-mpnet-base-v2")
    tokenizer = AutoTokenizer.from_pretrained(where)
    ids = tokenizer(list(data["text"]), truncation=True, max_length=SETTINGS["max_length"])["input_ids"]
    used = sorted(set(range(4)) | {t for row in ids for t in row})  # <s> <pad> </s> <unk> keep their ids
    compact = {t: i for i, t in enumerate(used)}
    jobs = []
    for b, (train, test) in enumerate(cuts, 1):
        tr = [i for i, a in enumerate(articles) if a in train]
        te = [i for i, a in enumerate(articles) if a in test]
        fit, val = finetune_data.validation_split(
            len(tr), [articles[i] for i in tr], np.asarray(data["stance"])[tr],
            SETTINGS["validation_share"], 0, SETTINGS["validation"], [data["date"][i] or "" for i in tr],
        )  # fmt: skip
        jobs.append({"block": b, "train": [tr[i] for i in fit], "val": [tr[i] for i in val], "test": te})
        print(f"block {b}: fit {len(fit)}, validation {len(val)}, test {len(te)} sentences", flush=True)
    payload = {
        "data_version": version,
        "settings": SETTINGS,
        "n_actors": len(scheme.labels.real_actors),
        "n_stances": len(scheme.stance_labels),
        "none_stance": scheme.labels.none_stance_id,
        "sentence_id": list(data["sentence_id"]),
        "ids": [[compact[t] for t in row] for row in ids],
        "actor": [int(x) for x in data["actor"]],
        "stance": [int(x) for x in data["stance"]],
        "jobs": jobs,
    }
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(payload))
    state = load_file(str(Path(where) / "model.safetensors"))
    keep = {}
    for k, v in state.items():
        if k.startswith("pooler.") or k == "embeddings.position_ids":
            continue
        if k == "embeddings.word_embeddings.weight":
            v = v[torch.tensor(used)]
        keep[k] = v.to(torch.float16).contiguous()
    config = json.loads((Path(where) / "config.json").read_text()) | {"vocab_size": len(used)}
    blob = Path("/tmp") / WEIGHTS
    save_file(keep, str(blob), metadata={"config": json.dumps(config)})
    raw = blob.read_bytes()
    size = piece_mb * 2**20
    parts = [raw[i : i + size] for i in range(0, len(raw), size)]
    if len(parts) > len(PIECES):
        raise SystemExit(f"{len(raw) / 2**20:.0f} MiB needs {len(parts)} pieces of {piece_mb} MiB")
    for folder in PIECES:
        for old in folder.glob("*"):
            old.unlink()
    for n, (folder, part) in enumerate(zip(PIECES, parts, strict=False), 1):
        folder.mkdir(exist_ok=True)
        (folder / f"piece.{n}").write_bytes(part)
    (PIECES[-1] / "sha256").write_text(hashlib.sha256(raw).hexdigest() + f" {len(parts)}\n")
    print(
        f"{len(used)} of {tokenizer.vocab_size} token rows; {len(raw) / 2**20:.1f} MiB in {len(parts)} pieces"
    )


# -- train (the GPU machine) ------------------------------------------------------------------
def _weights() -> Path:
    digest, n = (PIECES[-1] / "sha256").read_text().split()
    raw = b"".join((PIECES[i] / f"piece.{i + 1}").read_bytes() for i in range(int(n)))
    if hashlib.sha256(raw).hexdigest() != digest:
        raise SystemExit("the weights' pieces do not match their checksum")
    path = Path("/tmp") / WEIGHTS
    path.write_bytes(raw)
    return path


def _fit(job: dict, seed: int, data: dict, weights: str) -> dict:
    import numpy as np
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from sklearn.metrics import f1_score
    from torch import nn
    from transformers import MPNetConfig, MPNetModel, get_linear_schedule_with_warmup

    from training.calibration import fit_temperature, softmax
    from training.models.finetune_data import inverse_frequency

    t0 = time.time()
    s = data["settings"]
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with safe_open(weights, "pt") as f:
        config = MPNetConfig(**json.loads(f.metadata()["config"]))
    base = MPNetModel(config, add_pooling_layer=False)
    missing, unexpected = base.load_state_dict(
        {k: v.float() for k, v in load_file(weights).items()}, strict=False
    )
    assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
    n_a, n_s = data["n_actors"], data["n_stances"]
    actor, stance = np.asarray(data["actor"]), np.asarray(data["stance"])
    fit, val, test = (np.asarray(job[k]) for k in ("train", "val", "test"))
    bearing = actor[fit] < n_a

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.dropout = base, nn.Dropout(s["dropout"])
            width = config.hidden_size
            self.actor_head, self.stance_head = nn.Linear(width, n_a), nn.Linear(width, n_s)

        def forward(self, ids, mask):
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = self.dropout((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9))
            return self.actor_head(pooled), self.stance_head(pooled)

    model = TwoHeads().to(device)
    aw = torch.tensor(inverse_frequency(actor[fit][bearing], n_a), dtype=torch.float32, device=device)
    sw = torch.tensor(inverse_frequency(stance[fit], n_s), dtype=torch.float32, device=device)

    def batch(rows):
        width = max(len(data["ids"][i]) for i in rows)
        ids = torch.full((len(rows), width), 1, dtype=torch.long)  # <pad> is 1
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, i in enumerate(rows):
            ids[r, : len(data["ids"][i])] = torch.tensor(data["ids"][i])
            mask[r, : len(data["ids"][i])] = 1
        return ids.to(device), mask.to(device)

    def logits(rows):
        model.eval()
        out_a, out_s = [], []
        order = sorted(rows, key=lambda i: len(data["ids"][i]))
        with torch.no_grad(), torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            for k in range(0, len(order), 128):
                a, st = model(*batch(order[k : k + 128]))
                out_a.append(a.float().cpu())
                out_s.append(st.float().cpu())
        a, st = torch.cat(out_a).numpy(), torch.cat(out_s).numpy()
        pos = {i: k for k, i in enumerate(order)}
        take = [pos[i] for i in rows]
        return a[take], st[take]

    decay = [p for n, p in model.named_parameters() if not any(x in n for x in ("bias", "LayerNorm"))]
    rest = [p for n, p in model.named_parameters() if any(x in n for x in ("bias", "LayerNorm"))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": s["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
        lr=s["learning_rate"],
    )
    steps_per_epoch = -(-len(fit) // s["batch_size"])
    total = steps_per_epoch * s["epochs"]
    sched = get_linear_schedule_with_warmup(opt, int(s["warmup"] * total), total)
    rng = np.random.default_rng(seed)
    best, best_state, history, stale = -1.0, None, [], 0
    for _ in range(s["epochs"]):
        model.train()
        perm = rng.permutation(fit)
        for k in range(0, len(perm), s["batch_size"]):
            rows = perm[k : k + s["batch_size"]].tolist()
            ids, mask = batch(rows)
            ya = torch.tensor(actor[rows], device=device)
            ys = torch.tensor(stance[rows], device=device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                la, ls = model(ids, mask)
            loss = nn.functional.cross_entropy(ls.float(), ys, weight=sw)
            bear = ya < n_a
            if bear.any():
                loss = loss + nn.functional.cross_entropy(la.float()[bear], ya[bear], weight=aw)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        _, vs = logits(val.tolist())
        f1 = float(f1_score(stance[val], vs.argmax(1), average="macro", zero_division=0))
        history.append(round(f1, 4))
        if f1 > best:
            best, stale = f1, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= s["patience"]:
                break
    model.load_state_dict(best_state)
    va, vs = logits(val.tolist())
    keep = actor[val] < n_a
    temps = (fit_temperature(va[keep], actor[val][keep]), fit_temperature(vs, stance[val]))
    ta, ts = logits(test.tolist())
    return {
        "block": job["block"],
        "seed": seed,
        "epochs_run": len(history),
        "val_stance_macro_f1": history,
        "temperatures": temps,
        "seconds": round(time.time() - t0, 1),
        "sentence_id": [data["sentence_id"][i] for i in test],
        "actor_given": softmax(ta / temps[0]).round(6).tolist(),
        "stance_p": softmax(ts / temps[1]).round(6).tolist(),
    }


def _worker(args):
    job, seed, weights, overrides = args
    data = json.loads(DATA.read_text())
    data["settings"] |= overrides
    return _fit(job, seed, data, weights) | {"settings": data["settings"]}


def train(
    out: Path, workers: int, seeds: tuple[int, ...], blocks_: tuple[int, ...], budget: float, epochs=None
) -> None:
    import multiprocessing as mp

    import torch

    t0 = time.time()
    weights = str(_weights())
    data = json.loads(DATA.read_text())
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(f"device {name}; torch {torch.__version__}; data {data['data_version']}", flush=True)
    overrides = {} if epochs is None else {"epochs": epochs}
    jobs = [(j, s, weights, overrides) for s in seeds for j in data["jobs"] if j["block"] in blocks_]
    out.mkdir(parents=True, exist_ok=True)
    done = 0
    with mp.get_context("spawn").Pool(workers) as pool:
        results = pool.imap_unordered(_worker, jobs)
        while done < len(jobs):
            try:
                r = results.next(timeout=max(1.0, budget - (time.time() - t0)))
            except mp.TimeoutError:
                print(f"budget of {budget:.0f} s reached: {done} of {len(jobs)} fits written", flush=True)
                pool.terminate()
                break
            done += 1
            with open(out / "probs.jsonl", "a") as f:
                f.write(json.dumps(r) + "\n")
            print(
                f"block {r['block']} seed {r['seed']}: {r['epochs_run']} epochs, validation "
                f"{r['val_stance_macro_f1']}, {r['seconds']} s ({time.time() - t0:.0f} s in)",
                flush=True,
            )


# -- score (here) -----------------------------------------------------------------------------
def score(probs: list[Path], out: Path, name: str, keep: bool) -> None:
    """Score the fits in ``probs`` (one or more train outputs, pooled) as run ``name``: result-NAME.md
    and .json under ``out``, one MLflow run per variant (experiment ``gpu-finetune``; a re-run updates
    it); with ``keep``, the fits' probabilities (4 decimals) as ``out``/probs-NAME.jsonl, which a
    later ``score`` reads as it reads a train output."""
    import numpy as np
    import rolling_origin as ro
    from datasets import DatasetDict

    from training import champion, timesplit
    from training.evaluate import predicted_ids
    from training.models.base import factorized_actor_proba
    from training.models.blend import actor_given_stance
    from training.recipes import load_recipe, make_classifier

    scheme, version, data, articles, cuts = _labeled()
    recipe = load_recipe(ROOT / DEMO)
    cache = ROOT / ".stance" / "cache" / "gpu-finetune" / version
    cache.mkdir(parents=True, exist_ok=True)
    file = cache / f"demo-{ro.cache_key(recipe, scheme)}.jsonl"
    have = [json.loads(x) for x in file.read_text().splitlines() if x] if file.is_file() else []
    for b, (train, test) in enumerate(cuts, 1):
        if any(r["block"] == b for r in have):
            continue
        pick = lambda names: data.select([i for i, a in enumerate(articles) if a in names])  # noqa: E731
        _, rows = timesplit.evaluate(
            make_classifier(recipe, scheme), DatasetDict(train=pick(train), test=pick(test)), scheme
        )
        have += [r | {"block": b} for r in rows]
        tmp = file.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in have))
        tmp.replace(file)
        print(f"{DEMO}: block {b} refitted", flush=True)
    demo = {r["sentence_id"]: r for r in have}
    fits = [json.loads(x) for p in probs for x in p.read_text().splitlines() if x]
    settings = {json.dumps(f.get("settings", SETTINGS), sort_keys=True) for f in fits}
    if len(settings) != 1:
        raise SystemExit(f"the fits were trained with different settings: {sorted(settings)}")
    if len({(f["block"], f["seed"]) for f in fits}) != len(fits):
        raise SystemExit("a (block, seed) fit appears twice in --probs")
    a_lab, s_lab = scheme.actor_labels, scheme.stance_labels

    def rows_of(stance_p: dict, given: dict) -> list[dict]:
        ids = sorted(stance_p)
        sp = np.array([stance_p[i] for i in ids])
        ap = factorized_actor_proba(sp, np.array([given[i] for i in ids]), a_lab, s_lab)
        a_pred, s_pred = predicted_ids(ap, sp, scheme)
        return [
            {"sentence_id": i, "article": demo[i]["article"], "block": demo[i]["block"],
             "true": demo[i]["true"], "predicted": [a_lab[a], s_lab[s]]}
            for i, a, s in zip(ids, a_pred, s_pred, strict=True)
        ]  # fmt: skip

    demo_stance = {i: [r["stance_p"][k] for k in s_lab] for i, r in demo.items()}
    demo_given = {
        i: actor_given_stance(np.array([[r["actor_p"][k] for k in a_lab]]))[0] for i, r in demo.items()
    }
    variants = {"demo recipe (refit here)": rows_of(demo_stance, demo_given)}
    seeds = sorted({f["seed"] for f in fits})
    complete = [s for s in seeds if {f["block"] for f in fits if f["seed"] == s} == {1, 2, 3}]

    def mean_of(chosen, key):
        acc: dict[str, list] = {}
        for f in fits:
            if f["seed"] in chosen:
                for i, p in zip(f["sentence_id"], f[key], strict=True):
                    acc.setdefault(i, []).append(p)
        return {i: np.mean(v, axis=0) for i, v in acc.items()}

    for label, chosen in ((f"seed {complete[0]}", complete[:1]), (f"{len(complete)} seeds", complete)):
        if len(chosen) < 1 or (label.endswith("seeds") and len(chosen) < 2):
            continue
        sp, given = mean_of(chosen, "stance_p"), mean_of(chosen, "actor_given")
        variants[f"whole-encoder fine-tune, {label}, alone"] = rows_of(sp, given)
        blend = {i: 0.5 * np.asarray(demo_stance[i]) + 0.5 * sp[i] for i in sp}
        variants[f"blend: demo recipe + fine-tune {label} (0.5 / 0.5, demo holders)"] = rows_of(
            blend, demo_given
        )
    result = {"data_version": version, "name": name, "settings": json.loads(settings.pop()), "seeds": complete, "fits": [
        {k: f[k] for k in ("block", "seed", "epochs_run", "val_stance_macro_f1", "temperatures", "seconds")}
        for f in fits
    ], "variants": []}  # fmt: skip
    ref_rows = variants["demo recipe (refit here)"]
    for variant, rows in variants.items():
        row = {"variant": variant} | ro.score(rows, scheme)
        if variant != "demo recipe (refit here)":
            verdict = champion.rule(
                champion.Predictions.from_jsonl("".join(json.dumps(r) + "\n" for r in rows)),
                champion.Predictions.from_jsonl("".join(json.dumps(r) + "\n" for r in ref_rows)),
                scheme.stance_labels,
                where="rolling-origin",
            )
            row |= ro.paired(rows, ref_rows, scheme) | {"champion_rule": verdict.why}
        result["variants"].append(row)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        f"result-{name}.json": json.dumps(result, indent=2) + "\n",
        f"result-{name}.md": markdown(result),
    }
    if keep:
        short = lambda v: [[round(x, 4) for x in row] for row in v]  # noqa: E731
        files[f"probs-{name}.jsonl"] = "".join(
            json.dumps(f | {"actor_given": short(f["actor_given"]), "stance_p": short(f["stance_p"])}) + "\n"
            for f in sorted(fits, key=lambda f: (f["seed"], f["block"]))
        )
    for file, text in files.items():
        tmp = out / f"{file}.tmp"
        tmp.write_text(text)
        tmp.replace(out / file)  # atomic
    _log(result, variants)
    print(markdown(result))


def _log(result: dict, variants: dict) -> None:
    """One MLflow run per variant, experiment ``gpu-finetune``: its figures and decisions; a re-run
    of the same name updates its runs."""
    import mlflow

    from training import tracking

    experiment_id = tracking.setup("gpu-finetune")
    for row in result["variants"]:
        tags = {"study": result["name"], "variant": row["variant"], "data_version": result["data_version"]}
        params = result["settings"] | {"seeds": " ".join(map(str, result["seeds"]))}
        match = {f"tags.{k}": v for k, v in tags.items()}
        with tracking.study_run(experiment_id, f"{result['name']}: {row['variant']}", match, tags, params):
            mlflow.log_metrics({k: v for k, v in row.items() if isinstance(v, float)})
            rows = variants[row["variant"]]
            mlflow.log_text("".join(json.dumps(r) + "\n" for r in rows), "rolling-origin-predictions.jsonl")


def markdown(r: dict) -> str:
    def cell(row, prefix, key):
        return (
            f"{row[f'{prefix}_{key}']:.3f} [{row[f'{prefix}_{key}_lo']:.3f}, {row[f'{prefix}_{key}_hi']:.3f}]"
        )

    def diff(row, key):
        p, lo, hi = row[key]
        return f"{p:+.3f} [{lo:+.3f}, {hi:+.3f}]"

    lines = [
        f"# The whole encoder fine-tuned on the rolling origin, on a GPU: {r['name']} (data {r['data_version']})",
        "",
        f"Settings: {json.dumps(r['settings'])}; seeds {r['seeds']}. Each block's test articles are "
        "scored by fits on the articles older than them alone; 90 % intervals by article. The fine-tune's "
        "stance probabilities are the mean over the seeds, as are its p(actor | a stance) when alone.",
        "",
        "Actor e2e counts the labeled stance-bearing sentences (a sentence called `none` is wrong); actor "
        "precision e2e, its companion, the sentences a variant calls stance-bearing (right: labeled "
        "stance-bearing with the predicted actor).",
        "",
        "| variant | pooled stance macro-F1 | pooled actor e2e | pooled actor precision e2e | block 1 stance; actor "
        "| block 2 | block 3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in r["variants"]:
        blocks_ = " | ".join(
            f"{x[f'block{b}_stance_macro_f1']:.3f}; {x[f'block{b}_actor_accuracy_e2e']:.3f}"
            for b in (1, 2, 3)
        )
        lines.append(
            f"| {x['variant']} | {cell(x, 'rolling', 'stance_macro_f1')} | "
            f"{cell(x, 'rolling', 'actor_accuracy_e2e')} | {cell(x, 'rolling', 'actor_precision_e2e')} | {blocks_} |"
        )
    lines += [
        "",
        "Against the demo recipe, paired by article (every block; the older blocks 2-3 alone):",
        "",
        "| variant | stance | actor e2e | older: stance | older: actor e2e | actor precision e2e | champion rule |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in r["variants"]:
        if "diff_stance_macro_f1" in x:
            lines.append(
                f"| {x['variant']} | {diff(x, 'diff_stance_macro_f1')} | {diff(x, 'diff_actor_accuracy_e2e')} | "
                f"{diff(x, 'older_diff_stance_macro_f1')} | {diff(x, 'older_diff_actor_accuracy_e2e')} | "
                f"{diff(x, 'diff_actor_precision_e2e')} | {x['champion_rule']} |"
            )
    lines += ["", "| block | seed | epochs run | validation stance macro-F1 by epoch | temperatures | seconds |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for f in sorted(r["fits"], key=lambda f: (f["block"], f["seed"])):
        lines.append(
            f"| {f['block']} | {f['seed']} | {f['epochs_run']} | {f['val_stance_macro_f1']} | "
            f"{[round(t, 2) for t in f['temperatures']]} | {f['seconds']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="step", required=True)
    e = sub.add_parser("export")
    e.add_argument("--piece-mb", type=int, default=50)
    t = sub.add_parser("train")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--workers", type=int, default=5)
    t.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    t.add_argument("--blocks", type=int, nargs="+", default=[1, 2, 3])
    t.add_argument("--budget", type=float, default=420, help="seconds; fits unfinished by then are dropped")
    t.add_argument("--epochs", type=int, help="most epochs, in place of the recipe's 5")
    s = sub.add_parser("score")
    s.add_argument("--probs", type=Path, nargs="+", required=True, help="train outputs, pooled")
    s.add_argument("--name", required=True, help="the study's name: result-NAME.md, MLflow tag")
    s.add_argument("--out", type=Path, default=OUT)
    s.add_argument("--keep", action="store_true", help="write the fits' probabilities under --out")
    a = ap.parse_args()
    if a.step == "export":
        export(a.piece_mb)
    elif a.step == "train":
        train(a.out, a.workers, tuple(a.seeds), tuple(a.blocks), a.budget, a.epochs)
    else:
        score(a.probs, a.out, a.name, a.keep)


if __name__ == "__main__":
    main()
