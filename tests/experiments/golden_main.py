"""Figures of `skpref reproduce` recorded on main at d5e8f24, before the runner.

Recorded with the code of that commit (torch on the CPU, 1 thread) by running each
case of ``test_golden.py`` through the command line of that commit, the
UltraFeedback case with its embedder pinned to float32 on the CPU, and keeping every
run's accuracy (rounded to 10 decimals; NaN for an empty set) and the Markdown
tables. The cases and their flags are in ``test_golden.py``.
"""

# ruff: noqa: E501
nan = float("nan")

# fmt: off
GOLDEN = {
    "confounding_synthetic": {
        "accuracy": [0.88, 0.68, 0.9, 0.81, 0.87, 0.7, 0.86, 0.88, 0.85, 0.69, 0.9, 0.82, 0.88, 0.6, 0.87, nan, 0.74, 0.71, 0.85, nan, 0.65, 0.66, 0.705, nan, 0.77, 0.75, 0.71, 0.72, 0.88, 0.72, 0.9, 0.76, 0.89, 0.73, 0.9, 0.75, 0.89, 0.66, 0.84, nan, 0.88, 0.71, 0.835, nan, 0.83, 0.67, 0.77, nan],
        "tables": [
            "| group | rho | Base | Base (paper) | Multihead | Multihead (paper) | Adversarial | Adversarial (paper) |",
            "|---|---|---|---|---|---|---|---|",
            "| inconsistent | 0.5 | 71.5 ± 3.5 | 60.0 ± 0.2 | 71.0 ± 1.0 | 62.9 ± 0.2 | 71.0 ± 2.0 | 63.7 ± 0.2 |",
            "| inconsistent | 1.0 | 63.0 ± 3.0 | 54.9 ± 0.1 | 71.0 ± 0.0 | 53.8 ± 0.1 | 66.5 ± 0.5 | 53.5 ± 0.1 |",
            "| consistent | 0.5 | 82.5 ± 5.5 | 60.9 ± 0.1 | 87.5 ± 0.5 | 66.0 ± 0.1 | 87.0 ± 2.0 | 66.3 ± 0.1 |",
            "| consistent | 1.0 | 88.5 ± 0.5 | 64.1 ± 0.2 | 81.0 ± 7.0 | 67.9 ± 0.2 | 74.0 ± 9.0 | 68.4 ± 0.2 |",
            "| group | rho | Base | Base (paper) | Multihead | Multihead (paper) | Adversarial | Adversarial (paper) |",
            "|---|---|---|---|---|---|---|---|",
            "| inconsistent | 0.5 | 76.5 ± 4.5 | 73.5 ± 0.2 | 82.0 ± 6.0 | 72.2 ± 0.2 | 78.5 ± 3.5 | 72.2 ± 0.2 |",
            "| inconsistent | 1.0 | – | – | – | – | – | – |",
            "| consistent | 0.5 | 80.5 ± 9.5 | 74.1 ± 0.2 | 88.0 ± 2.0 | 74.8 ± 0.2 | 90.0 ± 0.0 | 74.2 ± 0.2 |",
            "| consistent | 1.0 | 85.5 ± 1.5 | 79.6 ± 0.1 | 84.2 ± 0.8 | 74.1 ± 0.1 | 73.8 ± 3.3 | 72.4 ± 0.1 |",
        ],
    },
    "latent_synthetic": {
        "accuracy": [0.84, 0.79, 0.86, 0.78, 0.77, 0.71, 0.71, 0.62],
        "alpha_hat": [-0.1038175897, -0.1038175897, 0.2741068138, 0.2741068138, 0.2661861561, 0.2661861561, 0.4178231066, 0.4178231066],
        "rho_achieved": [-0.0025678056, -0.0025678056, 0.5381741494, 0.5381741494, 0.0194719645, 0.0194719645, 0.5849265249, 0.5849265249],
        "tables": [
            "| test | rho_train | ours | paper |",
            "|---|---|---|---|",
            "| ID | 0.0 | 80.5 ± 3.5 | 69.3 ± 0.2 |",
            "| OOD | 0.0 | 75.0 ± 4.0 | 64.5 ± 0.2 |",
            "| ID − OOD | 0.0 | 5.5 ± 0.5 | 4.8 |",
            "| ID | 0.6 | 78.5 ± 7.5 | 67.8 ± 0.2 |",
            "| OOD | 0.6 | 70.0 ± 8.0 | 59.7 ± 0.2 |",
            "| ID − OOD | 0.6 | 8.5 ± 0.5 | 8.1 |",
        ],
    },
    "confounding_hh_rlhf": {
        "accuracy": [0.58, 0.5, 0.8, 0.8, 0.58, 0.6, 0.71, 0.78, 0.66, 0.6, 0.65, 0.7, 0.58, 0.56, 0.645, nan, 0.58, 0.59, 0.66, nan, 0.6, 0.58, 0.61, nan, 0.55, 0.51, 0.71, 0.81, 0.54, 0.62, 0.67, 0.6, 0.54, 0.53, 0.72, 0.63, 0.51, 0.54, 0.745, nan, 0.57, 0.54, 0.785, nan, 0.43, 0.57, 0.53, nan],
        "tables": [
            "| group | rho | Base | Base (paper) | Multihead | Multihead (paper) | Adversarial | Adversarial (paper) |",
            "|---|---|---|---|---|---|---|---|",
            "| inconsistent | 0.5 | 50.5 ± 0.5 | 60.0 ± 0.2 | 61.0 ± 1.0 | 62.9 ± 0.2 | 56.5 ± 3.5 | 63.7 ± 0.2 |",
            "| inconsistent | 1.0 | 55.0 ± 1.0 | 54.9 ± 0.1 | 56.5 ± 2.5 | 53.8 ± 0.1 | 57.5 ± 0.5 | 53.5 ± 0.1 |",
            "| consistent | 0.5 | 56.5 ± 1.5 | 60.9 ± 0.1 | 56.0 ± 2.0 | 66.0 ± 0.1 | 60.0 ± 6.0 | 66.3 ± 0.1 |",
            "| consistent | 1.0 | 54.5 ± 3.5 | 64.1 ± 0.2 | 57.5 ± 0.5 | 67.9 ± 0.2 | 51.5 ± 8.5 | 68.4 ± 0.2 |",
            "| group | rho | Base | Base (paper) | Multihead | Multihead (paper) | Adversarial | Adversarial (paper) |",
            "|---|---|---|---|---|---|---|---|",
            "| inconsistent | 0.5 | 80.5 ± 0.5 | 73.5 ± 0.2 | 69.0 ± 9.0 | 72.2 ± 0.2 | 66.5 ± 3.5 | 72.2 ± 0.2 |",
            "| inconsistent | 1.0 | – | – | – | – | – | – |",
            "| consistent | 0.5 | 75.5 ± 4.5 | 74.1 ± 0.2 | 69.0 ± 2.0 | 74.8 ± 0.2 | 68.5 ± 3.5 | 74.2 ± 0.2 |",
            "| consistent | 1.0 | 69.5 ± 5.0 | 79.6 ± 0.1 | 72.2 ± 6.2 | 74.1 ± 0.1 | 57.0 ± 4.0 | 72.4 ± 0.1 |",
        ],
    },
    "latent_ultrafeedback": {
        "accuracy": [0.5, 0.5666666667, 0.5, 0.4666666667, 0.4, 0.3666666667, 0.6, 0.5],
        "alpha_hat": [0.0428106929, 0.0428106929, -1.9702279147, -1.9702279147, -6.0396993261, -6.0396993261, 0.4094680982, 0.4094680982],
        "rho_achieved": [0.0, 0.0, 0.299975575, 0.299975575, 0.0, 0.0, 0.2999960016, 0.2999960016],
        "tables": [
            "| test | rho_train | ours | paper |",
            "|---|---|---|---|",
            "| ID | 0.0 | 45.0 ± 5.0 | 69.3 ± 0.2 |",
            "| OOD | 0.0 | 46.7 ± 10.0 | 64.5 ± 0.2 |",
            "| ID − OOD | 0.0 | -1.7 ± 5.0 | 4.8 |",
            "| ID | 0.3 | 55.0 ± 5.0 | 68.3 ± 0.2 |",
            "| OOD | 0.3 | 48.3 ± 1.7 | 62.0 ± 0.2 |",
            "| ID − OOD | 0.3 | 6.7 ± 3.3 | 6.3 |",
        ],
    },
}
# fmt: on
