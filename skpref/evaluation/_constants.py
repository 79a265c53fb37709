"""The official aggregation constants of RewardBench, RewardBench 2 and RM-Bench.

Source: RewardBench v1, ``rewardbench/constants.py`` of the ``rewardbench``
package 0.1.4 (github.com/allenai/reward-bench): ``EXAMPLE_COUNTS`` (the
weights of the section scores; math-prm counts 984 examples, not its 447, so
that it weighs as much as the code subsets together) and ``SUBSET_MAPPING``.
The prior preference sets are those of ``SUBSET_NAME_TO_PAPER_READY`` there.
RewardBench 2: ``scripts/run_v2.py`` of the same repository (best-of-n with a
tie penalty per example, the ``ties`` subset scored by
``rewardbench.utils.process_single_model``) and the leaderboard's mean of the
six subsets. RM-Bench: ``compute_accuracy`` of github.com/THU-KEG/RM-Bench
(a 3 x 3 matrix of chosen style i against rejected style j; hard = above the
diagonal, normal = the diagonal, easy = below it).
"""

#: Weights of the RewardBench v1 subsets in their section's score.
EXAMPLE_COUNTS = {
    "alpacaeval-easy": 100,
    "alpacaeval-length": 95,
    "alpacaeval-hard": 95,
    "mt-bench-easy": 28,
    "mt-bench-med": 40,
    "mt-bench-hard": 37,
    "math-prm": 984,  # 447 examples, up-weighted to weigh as the six hep-* subsets
    "refusals-dangerous": 100,
    "refusals-offensive": 100,
    "llmbar-natural": 100,
    "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92,
    "llmbar-adver-GPTOut": 47,
    "llmbar-adver-manual": 46,
    "xstest-should-refuse": 154,
    "xstest-should-respond": 250,
    "donotanswer": 136,
    "hep-cpp": 164,
    "hep-go": 164,
    "hep-java": 164,
    "hep-js": 164,
    "hep-python": 164,
    "hep-rust": 164,
}

#: The RewardBench v1 sections and their subsets; the final score is their mean.
SUBSET_MAPPING = {
    "Chat": [
        "alpacaeval-easy",
        "alpacaeval-length",
        "alpacaeval-hard",
        "mt-bench-easy",
        "mt-bench-med",
    ],
    "Chat Hard": [
        "mt-bench-hard",
        "llmbar-natural",
        "llmbar-adver-neighbor",
        "llmbar-adver-GPTInst",
        "llmbar-adver-GPTOut",
        "llmbar-adver-manual",
    ],
    "Safety": [
        "refusals-dangerous",
        "refusals-offensive",
        "xstest-should-refuse",
        "xstest-should-respond",
        "donotanswer",
    ],
    "Reasoning": [
        "math-prm",
        "hep-cpp",
        "hep-go",
        "hep-java",
        "hep-js",
        "hep-python",
        "hep-rust",
    ],
}

#: RewardBench v1 prior preference sets: reported apart, never in the final score.
PRIOR_SETS = (
    "anthropic_harmless",
    "anthropic_helpful",
    "anthropic_hhh",
    "mtbench_gpt4",
    "mtbench_human",
    "shp",
    "summarize",
)

#: The six RewardBench 2 subsets; the final score is their unweighted mean.
REWARDBENCH2_SUBSETS = ("Factuality", "Precise IF", "Math", "Safety", "Focus", "Ties")

#: Weights of the per-prompt statistics in the RewardBench 2 Ties score.
TIES_WEIGHTS = {
    "tied_accuracy": 0.3,
    "ref_accuracy": 0.3,
    "correctness_preferred": 0.2,
    "correctness_preferred_hard": 0.2,
    "margin_score": 0.01,
}

#: RM-Bench's response styles, in the order of its ``chosen``/``rejected`` lists.
RM_BENCH_STYLES = ("concise", "detailed", "markdown")

#: RM-Bench sections: its safety domain comes as two subsets.
RM_BENCH_SECTIONS = {
    "chat": ["chat"],
    "math": ["math"],
    "code": ["code"],
    "safety": ["safety-refuse", "safety-response"],
}

#: Hugging Face Hub datasets and splits of each benchmark.
HUB_DATASETS = {
    "rewardbench": ("allenai/reward-bench", "filtered"),
    "rewardbench2": ("allenai/reward-bench-2", "test"),
    "rm-bench": ("THU-KEG/RM-Bench", "train"),
}
