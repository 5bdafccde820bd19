"""Training the encoder: corpus, tokenizer training, pre-training, evaluation, export, model card.

Nothing here is needed to embed: the tuner imports `encoder` (reading IR, graphs, tokenizer,
model, `embed`), never this package.
"""
