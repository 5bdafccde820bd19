"""An IR-aware WordPiece tokenizer (HF `tokenizers`), trained on the corpus.

Why a custom pre-tokenizer: generic BPE over raw IR text glues `%12 = load`
into meaningless pieces and spends its vocabulary on string constants. Here the
text is first split into the units an IR reader sees: opcodes and keywords
(`getelementptr`, `nsw`), types (`i32`, `double`, `ptr`, `<4 x float>` as its
parts), value names (`%12`, `@main`, `%struct.foo`), metadata ids (`!7`),
numbers and punctuation. WordPiece then learns sub-word pieces inside those
units only, so `%12` becomes `%` `##12`-like pieces and rare globals break into
known parts instead of `[UNK]`.

The module text that the transformer reads is also chosen here
(`module_body`): function bodies and declarations, not attribute groups or
metadata tables, because that is where the program is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)
DEFAULT_VOCAB = 8000
ASSET = Path(__file__).parent / "assets" / "tokenizer.json"

# One IR unit per match; anything else is a single character.
_UNITS = (
    r"[%@][-A-Za-z$._0-9]+"  # value and global names: %0 %struct.foo @main
    r"|![A-Za-z._0-9]+"  # metadata ids and names: !12 !llvm.loop
    r"|#[0-9]+"  # attribute groups
    r"|0x[0-9A-Fa-f]+"  # hex float constants
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"  # numbers
    r"|[A-Za-z_][A-Za-z_0-9.]*"  # opcodes, keywords, types
    r"|\S"
)
_STRING_CONST = re.compile(r'c"(?:[^"\\]|\\.)*"')


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(_UNITS), behavior="isolated")]
    )


def module_body(ir: str) -> str:
    """The part of a (normalized) module worth reading: globals' shapes and functions.

    Drops comments, attribute-group definitions and metadata tables; string
    constants shrink to `c"..."` since their bytes say nothing about performance.
    """
    keep = []
    for line in ir.splitlines():
        s = line.strip()
        if not s or s.startswith((";", "attributes #", "!", "source_filename", "target ")):
            continue
        keep.append(_STRING_CONST.sub('c"..."', s))
    return "\n".join(keep)


def encode_head(tok: Tokenizer, ir: str, n: int) -> list[int]:
    """The first `n` ids of `tok.encode(module_body(ir)).ids`, tokenising only what they need.

    Why: one text window (the embedder's default) reads the first `n` tokens, and tokenising a
    whole suite kernel cost more than building its graph. Pre-tokenisation splits on
    whitespace first, so the tokens of whole lines do not depend on what follows them: a prefix
    cut at a line end encodes to the same leading ids. The prefix doubles until it yields more
    than `n` ids (the margin keeps the closing special token out of the head).
    """
    body = module_body(ir)
    cut = 4 * n  # characters; IR runs about three to a token
    while cut < len(body):
        end = body.find("\n", cut)
        if end < 0:
            break
        ids = tok.encode(body[:end]).ids
        if len(ids) > n + 1:
            return ids[:n]
        cut = 2 * end
    return tok.encode(body).ids[:n]


def train(texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB, min_frequency: int = 2) -> Tokenizer:
    """Train the WordPiece vocabulary on module bodies."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=64))
    tok.pre_tokenizer = _pre_tokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIALS, show_progress=False
    )
    tok.train_from_iterator((module_body(t) for t in texts), trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A", special_tokens=[("[CLS]", CLS)])
    return tok


def save(tok: Tokenizer, path: Path = ASSET) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))


def load(path: Path = ASSET) -> Tokenizer:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no tokenizer; run `encoder pretrain` (it trains one) or reinstall")
    return Tokenizer.from_file(str(path))


def encode_units(tok: Tokenizer, text: str) -> list[int]:
    """Ids of a short text (a graph node's label) without [CLS]."""
    return tok.encode(text, add_special_tokens=False).ids


def windows(ids: list[int], length: int, max_windows: int) -> Iterator[list[int]]:
    """Split a long token sequence into at most `max_windows` windows of `length`.

    Why evenly spread windows and not the first N tokens: a module's hot loops
    are often in the last function (`main` calls kernels defined above it);
    sampling across the module keeps every function represented.
    """
    body = ids[1:] if ids and ids[0] == CLS else ids
    step = length - 1  # room for [CLS]
    n = max(1, -(-len(body) // step))
    if n <= max_windows:
        starts = [i * step for i in range(n)]
    elif max_windows == 1:
        starts = [0]
    else:
        span = len(body) - step
        starts = [round(i * span / (max_windows - 1)) for i in range(max_windows)]
    for s in starts:
        yield [CLS, *body[s : s + step]]
