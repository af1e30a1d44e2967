"""User-facing text of the bot, in one place."""

from __future__ import annotations

from coderank.config import MAX_PROBLEM_CHARS

USAGE = (
    "*CodeRank* asks three AI agents to solve a Python problem and lets your team vote blind on "
    "two of the answers.\n"
    "Usage: `/coderank <a Python problem>`, e.g. `/coderank Write a function is_prime(n)`.\n"
    "`/coderank stats` shows how well the reranker agrees with the team so far.\n"
    f"The problem may be up to {MAX_PROBLEM_CHARS:,} characters."
)
ADMIN_USAGE = (
    "Usage: `/coderank-admin status` (the model in use, what is stored, the last fine-tunes), "
    "`/coderank-admin digest` (post the weekly digest now), `/coderank-admin voters` (each "
    "voter's agreement with the gold comparisons, which execution decided, and position bias; "
    "for admins only) or `/coderank-admin finetune` (fine-tune the reranker on the team's "
    "votes; it is promoted only if it is better)."
)
VOTERS = (
    "*Voters* (closed comparisons; gold: one answer passed every check, the other crashed or "
    "failed; votes p: each vote against the others' on the same comparison, Fisher's method; "
    "position p: A share against the team's; flagged below 0.01; visible to admins only)\n"
    "{lines}"
)
FINETUNE_STARTED = (
    "Fine-tuning started: I'll post its progress and result to you in a direct message."
)
FINETUNE_BUSY = (
    "A fine-tune started by <@{by}> at {since} is still running; try again when it has finished."
)
FINETUNE_FORBIDDEN = (
    "Only CodeRank admins (CODERANK_ADMINS) can start a fine-tune; nothing was started."
)
FINETUNE_STAGES = {
    "starting": "starting…",
    "exporting": "exporting the team's votes…",
    "training": "training: {percent:.0f}%",
    "evaluating": "evaluating on the held-out pairs…",
}
FINETUNE_PROGRESS = "*Fine-tuning the reranker* (asked by <@{by}>): {stage}"
FINETUNE_FAILED = "*Fine-tune failed:* {error}. Nothing was promoted."
DIGEST_POSTING = "Posting the CodeRank digest in <#{channel}>…"
DIGEST_POSTED = "The CodeRank digest is posted in <#{channel}>."
STATS_WORKING = "Working out CodeRank's figures…"
STATUS_WORKING = "Looking up CodeRank's status…"
VOTERS_WORKING = "Reading the votes of closed comparisons…"
STATUS = (
    "*CodeRank status*\nReranker in use: `{model}`\nExecution: {execution}\nStored: {counts}\n"
    "*Last fine-tunes*\n{runs}"
)
NOT_ADMIN = "Only CodeRank admins (CODERANK_ADMINS) can use `/coderank-admin`."
NOT_IN_CHANNEL = (
    "I can't post in this channel yet. Invite me with `/invite @CodeRank` and try again."
)
QUEUED = (
    "Your request is queued (number {ahead} in the queue); the message in the channel will update "
    "when it starts."
)
GENERATING = "generating 3 answers…"
VOTED = "You voted {choice}; you can change your vote until voting closes."
VOTE_UNCHANGED = "Your vote is already {choice}; you can change it until voting closes."
VOTING_CLOSED = "Voting on this comparison is closed."
UNKNOWN_COMPARISON = "I can't find this comparison any more; it may have been deleted."
NOT_THIS_MESSAGE = (
    "This button does not belong to the comparison in this message, so nothing was recorded."
)
UNREADABLE_CLICK = "Sorry, I couldn't read this click ({problem}); nothing was recorded."
UNREADABLE_COMMAND = "Sorry, I couldn't read this command ({problem}); nothing was started."
CLOSE_FORBIDDEN = "Only <@{requester}> (who asked) or a CodeRank admin can close voting."
CLOSED_BY = "Voting closed by <@{user}>."
CLOSED_BY_QUORUM = "Voting closed: enough people voted."
CLOSED_BY_TIME = "Voting closed: its voting window ended."
GENERATION_FAILED = "Sorry, this comparison could not be made: {error}."
ANSWER_TOO_LONG = (
    "This answer is longer than a Slack modal holds: its first {shown:,} of {total:,} characters "
    "are shown."
)
PAUSED_BY_RESTART = "CodeRank is restarting; this request will continue when it is back."
RESUMED_AFTER_RESTART = "Resumed after CodeRank restarted: generating 3 answers…"
# Streamed into the thread of a comparison's message while it is generated (Markdown).
STREAM_TITLE = "Generating 3 answers"
STREAM_RERANKER = "Reranker: scoring the answers and choosing two"
# (is the reranker, status) -> what the task shows when it ends
STREAM_OUTPUTS = {
    (False, "complete"): "Answered.",
    (False, "error"): "No answer.",
    (True, "complete"): "Two answers chosen, shown blind as A and B.",
    (True, "error"): "No comparison.",
}
STREAM_READY = "Answers **A** and **B** are in the message above: which one is better? Vote there."
TRY_AGAIN = (
    "CodeRank's database is not answering right now, so this did not go through. Please try "
    "again in a minute."
)
SOMETHING_WENT_WRONG = "Sorry, something went wrong: {error}"
INTERNAL_ERROR = "an internal error ({kind})"
CHOICE_LABELS = {"A": "A", "B": "B", "tie": "Tie", "both_bad": "Both bad"}
