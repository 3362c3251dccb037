"""Citations: markers in an answer, and the check that each cited sentence really supports its claim."""
