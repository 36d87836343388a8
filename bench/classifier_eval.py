"""Print precision, recall and F1 per category and the direction accuracy of the classifier on
the labelled corpus, through the stable `watcher classify --json --batch` interface.

    python bench/classifier_eval.py [--split dev|test|all] [--misses] [CORPUS.jsonl]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from watcher.classify.evaluate import score

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "labelled.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--misses", action="store_true", help="list the items it got wrong")
    args = parser.parse_args()
    labelled = [json.loads(line) for line in args.corpus.read_text().splitlines() if line.strip()]
    if args.split != "all":
        labelled = [item for item in labelled if item["split"] == args.split]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as batch:
        for item in labelled:
            fields = ("id", "source", "text", "before", "after", "section")
            batch.write(json.dumps({k: item[k] for k in fields if k in item}) + "\n")
    run = subprocess.run([sys.executable, "-m", "watcher", "classify", "--json", "--batch",
                          batch.name], capture_output=True, text=True, check=True, cwd=ROOT)
    answers = {a["id"]: a for a in map(json.loads, run.stdout.splitlines())}
    report = score(labelled, answers)
    print(f"corpus {args.corpus.relative_to(ROOT)}, split {args.split}")
    print(report.table())
    if args.misses:
        print("\n".join(report.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
