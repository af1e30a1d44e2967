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
# every action_id the listeners handle
ACTIONS = frozenset({*VOTE_CHOICES, CLOSE_VOTING, *SHOW_FULL_LABELS})

BLOCK_PROBLEM = "coderank_problem"
BLOCK_ANSWER_A = "coderank_answer_a"
BLOCK_ANSWER_B = "coderank_answer_b"
BLOCK_SHOW_FULL = "coderank_show_full"
BLOCK_VOTES = "coderank_votes"
BLOCK_TALLY = "coderank_tally"
BLOCK_RESULT = "coderank_result"

FULL_ANSWER_VIEW = "coderank_full_answer"
