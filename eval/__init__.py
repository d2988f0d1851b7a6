"""Evaluation of grounded: gold questions, retrieval and span metrics, bootstrap intervals."""
