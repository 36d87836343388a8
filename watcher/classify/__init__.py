"""Change semantics: categories, the hardware direction and the facts a text states.

Rules are data (default_rules.toml, extended by the team's config/rules.toml); nothing here
calls out to a hosted model.
"""

from watcher.classify.judge import Verdict, fact_direction, judge_change, judge_text
from watcher.classify.rules import CATEGORIES, Rules, load

__all__ = ["CATEGORIES", "Rules", "Verdict", "fact_direction", "judge_change", "judge_text", "load"]
