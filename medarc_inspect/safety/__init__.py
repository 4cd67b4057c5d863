"""Safety components: spec-reasoning conditions, refusal-quality grading, over-refusal and jailbreaks."""
