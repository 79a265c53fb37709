"""The paper's published numbers (Kobalczyk & van der Schaar, ICML 2025).

Typed in from the paper's Table 1 (appendix D), Table 2 and Table 3 (appendix E.2):
accuracy in percent, ``(mean, standard error)`` over the paper's seeds (3 for
Table 1, 5 for Tables 2 and 3). The paper used Llama-3-8B embeddings, 15,000
UltraFeedback training pairs (Table 1) and 30,000 relabelled HH-RLHF training pairs
(Tables 2 and 3).
"""

from skpref.experiments._models import MODEL_NAMES

__all__ = ["PAPER_TABLE1", "PAPER_TABLE2", "PAPER_TABLE3"]

#: Table 1: test accuracy of the BTL model by ``rho_train`` and test set.
PAPER_TABLE1 = {
    ("ID", 0.0): (69.3, 0.2),
    ("ID", 0.3): (68.3, 0.2),
    ("ID", 0.6): (67.8, 0.2),
    ("ID", 0.9): (67.6, 0.2),
    ("OOD", 0.0): (64.5, 0.2),
    ("OOD", 0.3): (62.0, 0.2),
    ("OOD", 0.6): (59.7, 0.2),
    ("OOD", 0.9): (57.8, 0.1),
}


def _table(rows):
    """``{(group, model, rho): (mean, se)}`` from rows ``rho: [6 cells]``."""
    table = {}
    for rho, cells in rows.items():
        for i, cell in enumerate(cells):
            if cell is None:
                continue
            group = "inconsistent" if i < 3 else "consistent"
            table[(group, MODEL_NAMES[i % 3], rho)] = cell
    return table


#: Table 2: test accuracy by (consistency group, model, rho).
# fmt: off
PAPER_TABLE2 = _table(
    {
        0.5: [
            (60.0, 0.2), (62.9, 0.2), (63.7, 0.2),
            (60.9, 0.1), (66.0, 0.1), (66.3, 0.1),
        ],
        0.6: [
            (59.6, 0.1), (62.4, 0.1), (63.0, 0.1),
            (61.3, 0.1), (67.0, 0.1), (67.3, 0.1),
        ],
        0.7: [
            (58.4, 0.1), (60.6, 0.1), (62.3, 0.1),
            (62.5, 0.2), (67.2, 0.1), (67.6, 0.1),
        ],
        0.8: [
            (56.7, 0.1), (58.6, 0.1), (61.3, 0.1),
            (63.7, 0.2), (67.6, 0.2), (67.9, 0.2),
        ],
        0.9: [
            (55.9, 0.1), (56.3, 0.1), (58.9, 0.1),
            (64.2, 0.2), (67.9, 0.2), (68.4, 0.2),
        ],
        1.0: [
            (54.9, 0.1), (53.8, 0.1), (53.5, 0.1),
            (64.1, 0.2), (67.9, 0.2), (68.4, 0.2),
        ],
    }
)
# fmt: on

#: Table 3: training accuracy by (consistency group, model, rho); no inconsistent
#: training pairs exist at rho = 1.
# fmt: off
PAPER_TABLE3 = _table(
    {
        0.5: [
            (73.5, 0.2), (72.2, 0.2), (72.2, 0.2),
            (74.1, 0.2), (74.8, 0.2), (74.2, 0.2),
        ],
        0.6: [
            (71.3, 0.2), (73.0, 0.2), (73.0, 0.2),
            (73.1, 0.1), (75.8, 0.1), (75.8, 0.1),
        ],
        0.7: [
            (73.9, 0.2), (70.0, 0.2), (68.0, 0.2),
            (78.0, 0.1), (74.9, 0.1), (72.7, 0.1),
        ],
        0.8: [
            (69.4, 0.3), (68.0, 0.3), (69.9, 0.3),
            (75.1, 0.1), (75.3, 0.1), (74.7, 0.1),
        ],
        0.9: [
            (73.7, 0.4), (64.5, 0.4), (67.2, 0.4),
            (80.1, 0.1), (75.0, 0.1), (74.6, 0.1),
        ],
        1.0: [
            None, None, None,
            (79.6, 0.1), (74.1, 0.1), (72.4, 0.1),
        ],
    }
)
# fmt: on
