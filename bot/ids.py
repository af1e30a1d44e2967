"""Every action_id, block_id and callback_id, shared by the builders and the listeners."""

from __future__ import annotations

VOTE_A = "coderank_vote_a"
VOTE_B = "coderank_vote_b"
VOTE_TIE = "coderank_vote_tie"
VOTE_BOTH_BAD = "coderank_vote_both_bad"
CLOSE_VOTING = "coderank_close"
SHOW_FULL_A = "coderank_show_full_a"
SHOW_FULL_B = "coderank_show_full_b"

# action_id -> the vote it records
VOTE_CHOICES = {VOTE_A: "A", VOTE_B: "B", VOTE_TIE: "tie", VOTE_BOTH_BAD: "both_bad"}
# action_id -> which answer it shows
SHOW_FULL_LABELS = {SHOW_FULL_A: "A", SHOW_FULL_B: "B"}
# The App Home's buttons: clicked in the Home view, not in a comparison's message.
HOME_FINETUNE = "coderank_home_finetune"
HOME_ACTIONS = frozenset({HOME_FINETUNE})
# every action_id the listeners handle
ACTIONS = frozenset({*VOTE_CHOICES, CLOSE_VOTING, *SHOW_FULL_LABELS, *HOME_ACTIONS})

BLOCK_PROBLEM = "coderank_problem"
BLOCK_ANSWER_A = "coderank_answer_a"
BLOCK_ANSWER_B = "coderank_answer_b"
BLOCK_SHOW_FULL = "coderank_show_full"
BLOCK_VOTES = "coderank_votes"
BLOCK_TALLY = "coderank_tally"
BLOCK_RESULT = "coderank_result"

FULL_ANSWER_VIEW = "coderank_full_answer"

HOME_VIEW = "coderank_home"
BLOCK_HOME_NOTICE = "coderank_home_notice"
BLOCK_HOME_ASKED = "coderank_home_asked"
BLOCK_HOME_VOTES = "coderank_home_votes"
BLOCK_HOME_AGREEMENT = "coderank_home_agreement"
BLOCK_HOME_OWN = "coderank_home_own"
BLOCK_HOME_VOTERS = "coderank_home_voters"
BLOCK_HOME_RERANKER = "coderank_home_reranker"
BLOCK_HOME_LEADERBOARD = "coderank_home_leaderboard"
BLOCK_HOME_RUNS = "coderank_home_runs"
BLOCK_HOME_ADMIN = "coderank_home_admin"
