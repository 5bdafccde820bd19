"""The model card: rendered from a small fixture, every figure in it comes from that data."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from encoder.model import EncoderConfig
from encoder.training import card

# Numbers the card may print whatever the data: the paper's year, and the target it is held to.
NOT_DATA = {"2024", f"{card.MATCH_TARGET:g}"}
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(line: str) -> list[str]:
    """The figures of a card line, less two facts of the code: the weights' dtype and the relation count."""
    from encoder.embedding import WEIGHT_DTYPE

    line = line.replace(str(WEIGHT_DTYPE).removeprefix("torch."), "")
    return NUMBER.findall(re.sub(rf"\b{EncoderConfig().num_relations} relations", "", line))


def _fixture(root: Path, k: int) -> tuple[Path, Path, dict, EncoderConfig]:
    """Corpus stats, a run log and an export record; every value depends on `k` (1 or 2)."""
    corpus, run = root / "corpus", root / "run"
    corpus.mkdir(parents=True)
    run.mkdir()
    stats = {"seed": 10 + k, "totals": {"attempted": 300 * k, "kept": 170 * k}, "tools": {"clang": f"clang {20 + k}"}}
    (corpus / "stats.json").write_text(json.dumps(stats))
    steps = 60 + 40 * k
    log = [
        {"step": 1000 * k + i, "time_s": 0.7 * k * i, **{t: (3.0 + k) / (i + k) for t in card.TASKS}}
        for i in range(1, steps + 1)
    ]
    (run / "log.jsonl").write_text("\n".join(json.dumps(r) for r in log) + "\n")
    acc = 0.61 + 0.13 * k
    result = {
        "steps": steps,
        "batch": 4 * k + 3,
        "lr": 0.001 * k,
        "seed": 7 * k,
        "train_hours": 0.25 * k,
        "device": f"Accel{k}",
        "command": [f"encoder pretrain --steps {steps}"],
        "final_val": {f"{t}_acc": acc + 0.011 * j for j, t in enumerate(card.TASKS)},
        "intact_match_acc": 0.92 + 0.01 * k,  # under the target both times: the lines keep their shape
        "intact_match_acc_min": 0.91 + 0.01 * k,
        "intact_match_acc_max": 0.93 + 0.01 * k,
        "intact_match_draws": 2 + k,
        "intact_match_own": acc + 0.03,
        "intact_match_other_program": acc + 0.04,
        "intact_match_sibling": acc + 0.05,
        "retrieval_trained": 0.3 * k + 0.01,
        "retrieval_random_init": 0.2 * k + 0.02,
        "retrieval_chance": 0.003 * k,
        "retrieval_modules": 90 * k,
        "retrieval_groups": 30 * k + 1,
        "match_head": {
            "modules": 500 * k,
            "programs": 70 * k,
            "epochs": 5 * k,
            "best_epoch": 3 * k,
            "dev_programs": 8 * k,
            "dev_acc_before": 0.5 + 0.1 * k,
            "dev_acc_after": 0.6 + 0.1 * k,
            "seconds": 33.0 * k,
        },
    }
    cfg = EncoderConfig(
        d_model=32 * k,
        embed_dim=32 * k,
        graph_dim=32,
        text_layers=k,
        gnn_layers=1 + k,
        heads=2 * k,
        ff=64,
        max_len=48 * k,
        num_bases=1 + k,
    )
    cfg.vocab_size = 300 * k + 17
    return corpus, run, result, cfg


def test_every_figure_in_the_card_comes_from_its_data(tmp_path):
    texts = [card.render(*_fixture(tmp_path / str(k), k)) for k in (1, 2)]
    a, b = (t.splitlines() for t in texts)
    assert len(a) == len(b)
    typed = [
        (line, x)
        for line, other in zip(a, b, strict=True)
        for x, y in zip(_numbers(line), _numbers(other), strict=True)
        if x == y and x not in NOT_DATA
    ]
    assert not typed, typed  # a number that stays when the data changes was typed, not computed
    one = texts[0]
    assert "| task | training loss, steps 1001-1050 | training loss, steps 1051-1100 |" in one
    assert "This run saw 700 module samples (100 steps of batch 7), 0.700 s a step" in one
    assert "at least 0.95, on intact held-out modules: 0.930 (draws 0.920-0.940), missed by 0.020" in one
    for claim in ("1.4 s a step", "120k", "950k", "three hours"):  # the old card's unbacked figures
        assert claim not in one


def test_the_template_holds_no_figure_of_its_own():
    """Strings written to the card carry no digits (but the citation); numbers are named constants."""
    tree = ast.parse(Path(card.__file__).read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            skip |= {id(c) for c in ast.walk(node.format_spec)}  # `:.3f` and the like
        if isinstance(node, ast.Module | ast.FunctionDef) and ast.get_docstring(node) is not None:
            skip.add(id(node.body[0].value))
        if isinstance(node, ast.Assign) and node in tree.body:  # module constants: named, commented
            skip |= {id(c) for c in ast.walk(node.value)}
    strings, numbers = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skip or isinstance(node.value, bool):
            continue
        if isinstance(node.value, str) and re.search(r"\d", node.value.replace("PACT 2024", "")):
            strings.append(node.value)
        elif isinstance(node.value, int | float) and node.value not in (0, 1, 2):  # indices, "two or more"
            numbers.append(node.value)
    assert not strings and not numbers, (strings, numbers)


def test_write_puts_the_rendered_card_where_it_is_asked(tmp_path):
    corpus, run, result, cfg = _fixture(tmp_path, 1)
    card.write(corpus, run, result, cfg, path=tmp_path / "CARD.md")
    assert (tmp_path / "CARD.md").read_text() == card.render(corpus, run, result, cfg)
