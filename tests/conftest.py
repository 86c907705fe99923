"""Shared fixtures: the 249 plan and a complete, valid assessment for it."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from scoredsl.loader import compile_path
from scoredsl.plan import Plan

# CI draws the same examples on every run (derandomize), so a green local run of this
# profile is a green CI; the dev and fuzz profiles explore new ones.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=500, deadline=None)
settings.register_profile(  # a long local fuzz run (docs/guarantees.md)
    "fuzz", max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT / "standards"
SCHEME_249 = STANDARDS / "t-ccsa-249-2019.score"


@pytest.fixture(scope="session")
def plan249() -> Plan:
    plan, diagnostics = compile_path(SCHEME_249)
    assert plan is not None, diagnostics
    return plan


def full_marks(plan: Plan) -> dict[str, Any]:
    """Every judged item at its maximum, every rate in its best band, no veto, gates pass."""
    return copy.deepcopy(
        {
            "scheme": "t-ccsa-249-2019",
            "inputs": {
                "customer_satisfaction_rate": "99%",
                "call_completion_rate": "96%",
                "complaint_rate": "0.2%",
                "complaint_timely_rate": "99.5%",
                "training_plan_completion_rate": "100%",
                "training_participation_rate": "99.5%",
                "suggestion_participation_rate": "25%",
                "request_resolution_rate": "99.2%",
                "info_security_incident": False,
                "secrecy_check_problem": False,
                "safety_accident": False,
                "security_facility_intact_rate": "100%",
                "drill_plan_completion_rate": "100%",
                "meets_ydt3609_indicators": True,
                "major_safety_accident_3y": False,
            },
            "scores": {i.id: i.max for i in plan.items if i.kind == "judged"},
        }
    )


@pytest.fixture
def data249(plan249: Plan) -> dict[str, Any]:
    return full_marks(plan249)
