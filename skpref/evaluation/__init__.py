"""Evaluate reward models the way the field does, with intervals and length control.

``load_benchmark`` reads RewardBench (v1 and 2), RM-Bench and your own pairs;
``evaluate`` scores any reward model on them with the official aggregation,
bootstrap intervals, length-controlled accuracy and the length ruler's score
beside every figure; ``compare`` tests two reports against each other.
"""

from skpref.evaluation._benchmarks import BENCHMARKS, Benchmark, load_benchmark
from skpref.evaluation._evaluate import compare, evaluate
from skpref.evaluation._report import EvaluationReport
from skpref.evaluation._scorers import HFRewardScorer, length_ruler, score_responses

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "EvaluationReport",
    "HFRewardScorer",
    "compare",
    "evaluate",
    "length_ruler",
    "load_benchmark",
    "score_responses",
]
