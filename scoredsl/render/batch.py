"""Batch output: one line per assessment, CSV (a summary row) or JSONL (the full result)."""

from __future__ import annotations

import csv
from typing import IO, Any

from scoredsl import exactjson
from scoredsl.batch import ReadError
from scoredsl.data import DataError, read_assessment
from scoredsl.evaluate import EvaluationError, evaluate
from scoredsl.exactjson import number
from scoredsl.plan import Plan


class BatchWriter:
    """Evaluates and writes rows one at a time: memory does not grow with the row count."""

    def __init__(self, plan: Plan, out: IO[str], fmt: str) -> None:
        self.plan = plan
        self.out = out
        self.fmt = fmt
        self.top = [i.id for i in plan.top_items]
        self.csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(["id", "eligible", "total", "level", "error", *self.top])

    def row(self, ident: str, raw: Any) -> str | None:
        """Write one row; return its error message, if any."""
        try:
            if isinstance(raw, ReadError):
                raise raw
            detail = self.csv is None
            result = evaluate(self.plan, read_assessment(self.plan, raw), detail=detail)
        except (ReadError, EvaluationError) as exc:
            return self._error(ident, str(exc))
        except DataError as exc:
            return self._error(ident, "; ".join(exc.problems))
        if self.csv is not None:
            scores = result.scores
            self.csv.writerow([
                ident, "true" if result.eligible else "false", number(result.total),
                result.level or "", "", *(number(scores[t]) for t in self.top),
            ])  # fmt: skip
        else:
            doc = result.to_dict()
            doc["id"] = ident
            self.out.write(exactjson.dumps(doc) + "\n")
        return None

    def _error(self, ident: str, message: str) -> str:
        if self.csv is not None:
            self.csv.writerow([ident, "", "", "", message, *([""] * len(self.top))])
        else:
            self.out.write(exactjson.dumps({"id": ident, "error": message}) + "\n")
        return message
