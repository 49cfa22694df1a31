"""Statutory knowledge: the year tables, the formulas that use them, the check digits and the checks."""
