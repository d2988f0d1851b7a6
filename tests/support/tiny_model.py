"""A tiny sentence-transformers model written on the fly: real files and layout, random weights.

Two BERT layers 32 wide with a WordPiece vocabulary of letters, so any English text tokenises
into real pieces: big enough to export to ONNX and compare with torch, small enough to build in a
fraction of a second. Its vectors mean nothing; tests use it for what holds for any model.
"""

from __future__ import annotations

import string
from pathlib import Path

HIDDEN = 32
MAX_LENGTH = 48


def write_tiny_model(folder: Path, *, seed: int = 0) -> Path:
    """Write the model into ``folder`` (created) and return it; the same ``seed`` gives the same files."""
    import torch
    from sentence_transformers import SentenceTransformer
    try:  # sentence-transformers 6 moved the modules (the old path warns, and warnings are errors here)
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    backbone = folder.parent / f".{folder.name}-backbone"
    backbone.mkdir(parents=True)
    letters = list(string.ascii_lowercase + string.digits)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *(f"##{piece}" for piece in letters),
             "the", "who", "what", "did", "offer", "talks", ".", ",", "?"]
    (backbone / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(backbone / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=2 * HIDDEN, max_position_embeddings=MAX_LENGTH + 2)
    BertModel(config).save_pretrained(str(backbone))
    tokenizer.save_pretrained(str(backbone))
    transformer = Transformer(str(backbone), max_seq_length=MAX_LENGTH)
    pooling = Pooling(HIDDEN, pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu").save(str(folder))
    return folder
