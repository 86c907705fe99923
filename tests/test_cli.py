"""The command-line contracts: exit codes, output shapes, batch behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoredsl.cli import main
from tests.conftest import SCHEME_249, STANDARDS, full_marks

EXAMPLE = STANDARDS / "examples" / "t-ccsa-249-2019.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_standards_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(STANDARDS))
    assert code == 0
    assert "0 error(s)" in out


def test_check_summarises_acknowledged_notes_one_line_per_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "check", str(STANDARDS))
    assert code == 0
    assert out.splitlines() == [
        f"{STANDARDS / 'cace-promotion.score'}: 1 reading(s); --verbose shows them",
        f"{STANDARDS / 'cc-cmm-star-rating.score'}: 1 acknowledged "
        "(band-gap), 3 reading(s); --verbose shows them",
        f"{STANDARDS / 'cmm-525-0006.score'}: 4 acknowledged (band-overlap x2, weights-sum x2), "
        "8 reading(s); --verbose shows them",
        f"{STANDARDS / 't-ccsa-249-2019.score'}: 2 reading(s); --verbose shows them",
        f"{STANDARDS / 't-ccua-operation-capability.score'}: 68 acknowledged "
        "(level-overlap, zero-denominator x67), 2 reading(s); --verbose shows them",
        "checked 5 file(s): 0 error(s), 0 warning(s), 73 acknowledged, 16 reading(s)",
    ]
    code, out, _ = run(capsys, "check", "--verbose", str(STANDARDS))
    assert out.count("acknowledged[") == 73 and "--verbose shows them" not in out
    assert out.count("note[reading]") == 16


def test_check_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "no/such/file.score")
    assert (code, err) == (2, "scoredsl: no such file or directory: no/such/file.score\n")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_eval_example_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(EXAMPLE))
    assert code == 0
    assert "total: 838.15 / 1000" in out
    assert "level: four_star 四星级" in out
    assert "next level: five_star 五星级: 61.85 more points" in out


def test_eval_json_from_source_and_from_plan_agree(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    assert run(capsys, "compile", str(SCHEME_249), "-o", str(plan))[0] == 0
    doc = json.loads(plan.read_text(encoding="utf-8"))
    assert (doc["format_version"], doc["scheme"], len(doc["hash"])) == (2, "t-ccsa-249-2019", 64)
    a = run(capsys, "eval", str(SCHEME_249), str(EXAMPLE), "--format", "json")
    b = run(capsys, "eval", str(plan), str(EXAMPLE), "--format", "json")
    assert a == b
    result = json.loads(a[1])
    assert (result["total"], result["level"], result["next_level"]) == (
        838.15, "four_star", {"level": "five_star", "needs": 61.85},
    )  # fmt: skip
    assert '"total": 838.15,' in a[1]


def test_edited_plan_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    run(capsys, "compile", str(SCHEME_249), "-o", str(plan))
    plan.write_text(plan.read_text(encoding="utf-8").replace('"max": 20', '"max": 25', 1), "utf-8")
    code, _, err = run(capsys, "eval", str(plan), str(EXAMPLE))
    assert code == 1
    assert "hash does not match" in err


def test_eval_bad_data_exit_1_and_names_the_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["inputs"]["customer_satisfaction_rate"] = 96.5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(bad))
    assert (code, out) == (1, "")
    assert "customer_satisfaction_rate" in err and 'write "96.5%"' in err


def test_eval_invalid_yaml_gives_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: {a: [1, 2}\n", encoding="utf-8")
    code, _, err = run(capsys, "eval", str(SCHEME_249), str(bad))
    assert code == 1
    assert err.startswith(f"error[data]: {bad}:1:")


def test_inputs_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inputs", str(SCHEME_249), "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 15
    assert rows[0] == {
        "name": "customer_satisfaction_rate", "label": "顾客满意率", "type": "percent",
        "unit": "%", "domain": ["0% <= x <= 100%"], "clause": "5.6.2.2",
    }  # fmt: skip
    assert {r["name"] for r in rows if r["type"] == "bool"} == {
        "info_security_incident", "secrecy_check_problem", "safety_accident",
        "meets_ydt3609_indicators", "major_safety_accident_3y",
    }  # fmt: skip


def test_template_lists_every_input_and_judged_item(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "template", str(SCHEME_249))
    doc = yaml.safe_load(out)
    assert code == 0 and doc["scheme"] == "t-ccsa-249-2019"
    assert len(doc["inputs"]) == 15 and len(doc["scores"]) == 52
    assert all(v is None for v in doc["scores"].values())


def test_batch_csv_bad_row_does_not_stop_the_batch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any
) -> None:
    good = full_marks(plan249)
    header = ["id", *good["inputs"], *good["scores"], "severe"]
    rows = []
    for ident, rate, severe in (("a", "99%", ""), ("b", "96.5", ""), ("c", "92%", "5.4.3")):
        values = {**good["inputs"], "customer_satisfaction_rate": rate}
        rows.append(
            [ident, *map(_cell, values.values()), *map(str, good["scores"].values()), severe]
        )
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(path))
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "id,eligible,total,level,level_label,error,5.1,5.2,5.3,5.4,5.5,5.6"
    assert lines[1] == "a,true,1000,five_star,五星级,,50,50,100,300,210,290"
    assert lines[2].startswith(
        "b,,,,,\"input 'customer_satisfaction_rate' (顾客满意率) is a percentage"
    )
    assert lines[3] == "c,true,835,four_star,四星级,,50,50,100,150,210,275"
    assert err == "evaluated 3 rows: 2 ok, 1 failed\n"


def _cell(v: object) -> str:
    return {True: "true", False: "false"}.get(v, str(v)) if isinstance(v, bool) else str(v)


def test_batch_jsonl_matches_single(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any
) -> None:
    good = full_marks(plan249)
    scores = {k: str(v) for k, v in good["scores"].items()}
    lines = [json.dumps({"id": "x", "inputs": good["inputs"], "scores": scores}), "{not json"]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(path), "--format", "jsonl", "--quiet")
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 1
    assert (first["id"], first["total"], first["level"]) == ("x", 1000, "five_star")
    assert second["id"] == "2" and second["error"].startswith(f"{path}:2:2: invalid JSON")


def test_batch_on_two_processes_writes_the_same_rows_in_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, monkeypatch: Any
) -> None:
    from scoredsl.render import batch

    monkeypatch.setattr(batch, "CHUNK", 7)  # many chunks, so order across workers matters
    good = full_marks(plan249)
    header = ["id", *good["inputs"], *good["scores"]]
    rows = []
    for k in range(60):
        values = {**good["inputs"], "customer_satisfaction_rate": f"{80 + k % 20}%"}
        rows.append([f"r{k}", *map(_cell, values.values()), *map(str, good["scores"].values())])
    rows[13][1] = "bad"
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    one = run(capsys, "eval", str(SCHEME_249), str(path), "--jobs", "1")
    two = run(capsys, "eval", str(SCHEME_249), str(path), "--jobs", "2")
    assert one == two
    code, out, err = two
    assert code == 1
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == [f"r{k}" for k in range(60)]
    assert err == "evaluated 60 rows: 59 ok, 1 failed\n"


def test_jobs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["eval", str(SCHEME_249), "x.csv", "--jobs", "0"])
    assert info.value.code == 2
    assert "expected a whole number of at least 1, not '0'" in capsys.readouterr().err


def test_eval_lang_zh_says_every_status_and_reason_in_chinese(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(EXAMPLE), "--lang", "zh")
    assert code == 0
    assert "总分：838.15 / 1000" in out
    assert "下一等级：five_star 五星级：还需 61.85 分" in out
    assert "5.1.1 明确目标" in out and "评定 18 分（满分 20 分）" in out
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(EXAMPLE), "--format", "json",
                       "--lang", "zh")  # fmt: skip
    doc = json.loads(out)
    item = next(i for i in doc["items"] if i["id"] == "5.6.2.2")
    assert (item["status"], item["why"]) == (
        "banded",
        "顾客满意率 96.5%，在 95% <= x < 98% 档：得 10 分（满分 20 分）",
    )
    assert doc["gates"][0]["why"] == "全部 2 项条件均满足"


def test_eval_json_says_why_in_english_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(EXAMPLE), "--format", "json")
    assert code == 0
    item = next(i for i in json.loads(out)["items"] if i["id"] == "5.6.2.2")
    assert item["why"] == "顾客满意率 96.5% is in 95% <= x < 98%: 10 of 20"
