"""Fixture files in the official schemas of RewardBench v1, v2 and RM-Bench.

Made-up texts, a few rows per subset, written where a test asks: the longer
response is the chosen one in all rows but one per subset (RewardBench), the
chosen is one right answer among three wrong ones of mixed lengths (RewardBench
2, plus the Ties subset's reference and tied prompts), and every RM-Bench row
holds a right and a wrong answer in three styles.
"""

import json

#: RewardBench v1 subsets (``filtered`` split), in its own order.
REWARDBENCH_SUBSETS = (
    "alpacaeval-easy alpacaeval-length alpacaeval-hard mt-bench-easy mt-bench-med "
    "mt-bench-hard llmbar-natural llmbar-adver-neighbor llmbar-adver-GPTInst "
    "llmbar-adver-GPTOut llmbar-adver-manual refusals-dangerous refusals-offensive "
    "xstest-should-refuse xstest-should-respond donotanswer math-prm hep-cpp hep-go "
    "hep-java hep-js hep-python hep-rust"
).split()
REWARDBENCH2_SUBSETS = ("Factuality", "Precise IF", "Math", "Safety", "Focus")
RM_BENCH_DOMAINS = ("chat", "math", "code", "safety-refuse", "safety-response")


def rewardbench_rows():
    rows = []
    for subset in REWARDBENCH_SUBSETS:
        for i in range(3):
            long = (
                f"A careful, complete answer for {subset} number {i}, with the "
                "reasons spelled out."
            )
            short = f"Answer {i}."
            chosen, rejected = (short, long) if i == 2 else (long, short)
            rows.append(
                {
                    "prompt": f"Question {i} of {subset}?",
                    "chosen": chosen,
                    "rejected": rejected,
                    "chosen_model": "m1",
                    "rejected_model": "m2",
                    "subset": subset,
                    "id": len(rows),
                }
            )
    return rows


def rewardbench2_rows():
    rows = [
        {
            "id": f"{subset.lower().replace(' ', '-')}-{i}",
            "prompt": f"{subset} prompt {i}",
            "chosen": [f"The right and fairly long {subset} answer {i}."],
            "rejected": [
                f"Wrong {i}.",
                f"Also a wrong {subset} answer {i}, at length.",
                f"No {i}.",
            ],
            "num_correct": 1,
            "num_incorrect": 3,
            "total_completions": 4,
            "models": ["a", "b", "c", "d"],
            "subset": subset,
        }
        for subset in REWARDBENCH2_SUBSETS
        for i in range(2)
    ]
    for i in range(2):  # Ties: a reference prompt, then the same with tied answers
        prompt = f"Name a colour of the rainbow ({i})"
        rejected = ["Brown.", "Pink, which is not one."]
        for key, chosen in (
            ("ref", ["Red."]),
            ("tied", ["Red.", "Green, a colour of the rainbow.", "Blue"]),
        ):
            n = len(chosen) + len(rejected)
            rows.append(
                {
                    "id": f"{key}:{i}",
                    "prompt": prompt,
                    "chosen": chosen,
                    "rejected": rejected,
                    "num_correct": len(chosen),
                    "num_incorrect": len(rejected),
                    "total_completions": n,
                    "models": ["x"] * n,
                    "subset": "Ties",
                }
            )
    return rows


def rm_bench_rows():
    rows = []
    for domain in RM_BENCH_DOMAINS:
        for i in range(2):
            rows.append(
                {
                    "id": len(rows),
                    "prompt": f"{domain} question {i}",
                    "chosen": [
                        f"Right {i}.",
                        f"The right {domain} answer {i}, in detail.",
                        f"**The right {domain} answer {i}**, in detail and in "
                        "markdown.",
                    ],
                    "rejected": [
                        f"Wrong {i}.",
                        f"A wrong {domain} answer {i}, in detail.",
                        f"**A wrong {domain} answer {i}**, in detail and in markdown.",
                    ],
                    "domain": domain,
                }
            )
    return rows


def write_fixture_files(folder):
    """Write the three files into ``folder``; return ``{benchmark: path}``."""
    files = {
        "rewardbench": folder / "rewardbench_filtered.jsonl",
        "rewardbench2": folder / "rewardbench2_test.jsonl",
        "rm-bench": folder / "rm_bench_total_dataset.json",
    }
    for name, rows in (
        ("rewardbench", rewardbench_rows()),
        ("rewardbench2", rewardbench2_rows()),
    ):
        files[name].write_text("".join(json.dumps(row) + "\n" for row in rows))
    files["rm-bench"].write_text(json.dumps(rm_bench_rows(), indent=1))
    return files
