"""The model: subscribers and enrolments in, eligibility, trial windows and fees out.

Money, months, text and cell parsing, and the cattrs converter live here too;
everything above builds on these values. The public names are re-exported by
``itvrules``.
"""
