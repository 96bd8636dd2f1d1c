"""Promessa's business rules: pure Python, standard library only."""
