"""campaign-guard review: two git revisions compared - what changed, what became riskier, what validate finds.

git.py reads a revision from git objects; diff.py compares the configuration by id, field by field;
risks/ raises the risk flags; build.py puts a review together; render.py writes it as Markdown, JSON
or GitHub annotations. docs/review.md describes every flag.
"""
