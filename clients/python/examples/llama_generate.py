"""Generates from several prompts at once with gpumux.llama, each started from a thread of its own,
and prints each prompt's tokens on a line: ``tokens: 12 7 ...``, in the order the prompts were given.

    python3 examples/llama_generate.py MODEL_DIR --prompt 1,17,200 --prompt 5 --max-new-tokens 10
"""

from __future__ import annotations

import argparse
import threading

import gpumux
from gpumux.llama import LlamaRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a Hugging Face model directory: config.json and its safetensors weights")
    parser.add_argument("--prompt", action="append", required=True, help="token ids, comma-separated; once per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    for option, default in (("page-tokens", 16), ("max-batch-tokens", 256), ("max-batch-requests", 32), ("max-ops-per-step", 256), ("max-steps-in-flight", 4)):
        parser.add_argument(f"--{option}", type=int, default=default)
    arguments = parser.parse_args()
    prompts = [[int(token) for token in prompt.split(",")] for prompt in arguments.prompt]

    with gpumux.connect() as client, LlamaRunner.open(
        client,
        arguments.model,
        page_tokens=arguments.page_tokens,
        max_batch_tokens=arguments.max_batch_tokens,
        max_batch_requests=arguments.max_batch_requests,
        max_ops_per_step=arguments.max_ops_per_step,
        max_steps_in_flight=arguments.max_steps_in_flight,
    ) as runner:
        results: list[list[int]] = [[] for _ in prompts]
        failures: list[BaseException] = []
        # All threads start their requests before any waits, so the runner batches them together.
        started = threading.Barrier(len(prompts))

        def generate(index: int) -> None:
            started.wait()
            try:
                request = runner.start(
                    prompts[index], arguments.max_new_tokens,
                    temperature=arguments.temperature, top_k=arguments.top_k, top_p=arguments.top_p, seed=arguments.seed,
                )  # fmt: skip
                results[index] = list(request)
            except BaseException as error:  # noqa: BLE001  (reported below, once every thread is done)
                failures.append(error)

        threads = [threading.Thread(target=generate, args=(index,)) for index in range(len(prompts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        for tokens in results:
            print("tokens:", *tokens)


if __name__ == "__main__":
    main()
